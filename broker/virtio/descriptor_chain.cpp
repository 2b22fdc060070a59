// DescriptorChain: copies and iovec slices over a chain's segments.
#include "broker/virtio/descriptor_chain.hpp"

#include <algorithm>
#include <cstring>

namespace runvm::broker {

namespace {

std::vector<iovec> slice(const std::vector<Segment>& segments, uint64_t offset, uint64_t len) {
    std::vector<iovec> out;
    for (const auto& s : segments) {
        if (len == 0) {
            break;
        }
        if (offset >= s.len) {
            offset -= s.len;
            continue;
        }
        const uint64_t take = std::min<uint64_t>(s.len - offset, len);
        out.push_back(iovec{s.host + offset, static_cast<size_t>(take)});
        len -= take;
        offset = 0;
    }
    return out;
}

} // namespace

size_t DescriptorChain::read(uint64_t offset, void* out, size_t len) const {
    size_t done = 0;
    for (const auto& v : readable_iov(offset, len)) {
        std::memcpy(static_cast<uint8_t*>(out) + done, v.iov_base, v.iov_len);
        done += v.iov_len;
    }
    return done;
}

size_t DescriptorChain::write(uint64_t offset, const void* in, size_t len) const {
    size_t done = 0;
    for (const auto& v : writable_iov(offset, len)) {
        std::memcpy(v.iov_base, static_cast<const uint8_t*>(in) + done, v.iov_len);
        done += v.iov_len;
    }
    return done;
}

std::vector<iovec> DescriptorChain::readable_iov(uint64_t offset, uint64_t len) const {
    return slice(readable, offset, len);
}

std::vector<iovec> DescriptorChain::writable_iov(uint64_t offset, uint64_t len) const {
    return slice(writable, offset, len);
}

} // namespace runvm::broker
