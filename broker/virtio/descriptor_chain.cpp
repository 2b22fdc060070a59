// DescriptorChain: copies and iovec slices over a chain's segments, without allocating.
#include "broker/virtio/descriptor_chain.hpp"

#include <algorithm>
#include <cstring>

namespace runvm::broker {

namespace {

// Calls visit(host, n) for each piece of [offset, offset + len) of `segments`, in order.
template <typename Visit>
void for_each_piece(const std::vector<Segment>& segments, uint64_t offset, uint64_t len,
                    Visit&& visit) {
    for (const auto& s : segments) {
        if (len == 0) {
            break;
        }
        if (offset >= s.len) {
            offset -= s.len;
            continue;
        }
        const uint64_t take = std::min<uint64_t>(s.len - offset, len);
        visit(s.host + offset, static_cast<size_t>(take));
        len -= take;
        offset = 0;
    }
}

void slice(const std::vector<Segment>& segments, uint64_t offset, uint64_t len,
           std::vector<iovec>& out) {
    out.clear();
    for_each_piece(segments, offset, len, [&](uint8_t* host, size_t n) {
        out.push_back(iovec{host, n});
    });
}

} // namespace

void DescriptorChain::clear() {
    head = 0;
    readable.clear();
    writable.clear();
    readable_bytes = 0;
    writable_bytes = 0;
}

size_t DescriptorChain::read(uint64_t offset, void* out, size_t len) const {
    size_t done = 0;
    for_each_piece(readable, offset, len, [&](const uint8_t* host, size_t n) {
        std::memcpy(static_cast<uint8_t*>(out) + done, host, n);
        done += n;
    });
    return done;
}

size_t DescriptorChain::write(uint64_t offset, const void* in, size_t len) const {
    size_t done = 0;
    for_each_piece(writable, offset, len, [&](uint8_t* host, size_t n) {
        std::memcpy(host, static_cast<const uint8_t*>(in) + done, n);
        done += n;
    });
    return done;
}

std::vector<iovec> DescriptorChain::readable_iov(uint64_t offset, uint64_t len) const {
    std::vector<iovec> out;
    slice(readable, offset, len, out);
    return out;
}

std::vector<iovec> DescriptorChain::writable_iov(uint64_t offset, uint64_t len) const {
    std::vector<iovec> out;
    slice(writable, offset, len, out);
    return out;
}

void DescriptorChain::readable_iov(uint64_t offset, uint64_t len, std::vector<iovec>& out) const {
    slice(readable, offset, len, out);
}

void DescriptorChain::writable_iov(uint64_t offset, uint64_t len, std::vector<iovec>& out) const {
    slice(writable, offset, len, out);
}

} // namespace runvm::broker
