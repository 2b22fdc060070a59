// FuseRequest parsing against the chain's and the header's lengths; FuseReply framing.
#include "broker/devices/fs/request.hpp"

#include <cerrno>

namespace runvm::broker::fs {

int FuseRequest::parse(const DescriptorChain& chain) {
    chain_ = &chain;
    args_size_ = 0;
    data_size_ = 0;
    if (chain.read(0, &header_, sizeof(header_)) != sizeof(header_)) {
        header_ = {};
        return -1;
    }
    // The header's len covers header + arguments (+ WRITE data) and must lie within what
    // the driver made readable: a longer claim would read past the request.
    if (header_.len < sizeof(header_) || header_.len > chain.readable_bytes) {
        return EINVAL;
    }
    uint64_t args = header_.len - sizeof(header_);
    if (header_.opcode == FUSE_WRITE) {
        if (args < sizeof(fuse_write_in)) {
            return EINVAL;
        }
        data_size_ = args - sizeof(fuse_write_in);
        args = sizeof(fuse_write_in);
    }
    if (args > MAX_ARGS_BYTES) {
        return E2BIG;
    }
    // One spare zero byte after the arguments keeps a string scan from running off.
    if (args_.size() < args + 1) {
        args_.resize(args + 1);
    }
    if (chain.read(sizeof(header_), args_.data(), args) != args) {
        return EINVAL;
    }
    args_[args] = 0;
    args_size_ = args;
    return 0;
}

bool FuseRequest::take_string(size_t* at, std::string_view* out) const {
    if (*at >= args_size_) {
        return false;
    }
    const auto* start = reinterpret_cast<const char*>(args_.data() + *at);
    const void* nul = std::memchr(start, 0, args_size_ - *at);
    if (nul == nullptr) {
        return false;
    }
    const size_t len = static_cast<size_t>(static_cast<const char*>(nul) - start);
    *out = std::string_view(start, len);
    *at += len + 1;
    return true;
}

void FuseReply::add_bytes(const void* p, size_t n) {
    const size_t at = buf_.size();
    buf_.resize(at + n);
    std::memcpy(buf_.data() + at, p, n);
}

uint8_t* FuseReply::extend(size_t n) {
    const size_t at = buf_.size();
    buf_.resize(at + n);
    return buf_.data() + at;
}

uint32_t FuseReply::send(const DescriptorChain& chain, int err) {
    if (chain.writable_bytes < sizeof(fuse_out_header)) {
        return 0;
    }
    if (err == 0 && buf_.size() + direct_data_ > chain.writable_bytes) {
        err = ERANGE; // the driver's buffer cannot take the answer
    }
    const size_t len = err != 0 ? sizeof(fuse_out_header) : buf_.size();
    const size_t extra = err != 0 ? 0 : direct_data_;
    fuse_out_header out{};
    out.len = static_cast<uint32_t>(len + extra);
    out.error = -err;
    out.unique = unique_;
    std::memcpy(buf_.data(), &out, sizeof(out));
    return static_cast<uint32_t>(chain.write(0, buf_.data(), len) + extra);
}

} // namespace runvm::broker::fs
