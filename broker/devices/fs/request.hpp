// FuseRequest: one FUSE request taken off a virtio-fs queue, its header and arguments
// copied out of guest memory and bounds-checked; FuseReply: the answer built for it.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include <linux/fuse.h>

#include "broker/virtio/descriptor_chain.hpp"

namespace runvm::broker::fs {

// Arguments above this size are refused (a WRITE's data is not copied and not counted):
// the largest legitimate one is SETXATTR with a 64 KiB value.
inline constexpr size_t MAX_ARGS_BYTES = 64 * 1024 + 2 * 4096;
inline constexpr uint32_t MAX_WRITE = 1024 * 1024;

class FuseRequest {
public:
    // Reads the header and the arguments of `chain` into this object (its buffer is
    // reused). Returns 0, or the errno to answer with when the header is there but the
    // request is malformed; -1 when there is not even a header to answer.
    int parse(const DescriptorChain& chain);

    const fuse_in_header& header() const { return header_; }
    uint32_t opcode() const { return header_.opcode; }
    uint64_t nodeid() const { return header_.nodeid; }
    const DescriptorChain& chain() const { return *chain_; }
    // The bytes after the header (for WRITE: only fuse_write_in; the data stays in the
    // chain at data_offset()).
    const uint8_t* args() const { return args_.data(); }
    size_t args_size() const { return args_size_; }
    uint64_t data_offset() const { return sizeof(fuse_in_header) + sizeof(fuse_write_in); }
    // WRITE data bytes the header's len says follow fuse_write_in.
    uint64_t data_size() const { return data_size_; }

    // Copies a T at *at (advancing it); false when the arguments are too short.
    template <typename T>
    bool take(size_t* at, T* out) const {
        if (*at > args_size_ || args_size_ - *at < sizeof(T)) {
            return false;
        }
        std::memcpy(out, args_.data() + *at, sizeof(T));
        *at += sizeof(T);
        return true;
    }
    // A NUL-terminated string at *at (advancing past the NUL); false without a NUL.
    bool take_string(size_t* at, std::string_view* out) const;

private:
    fuse_in_header header_{};
    const DescriptorChain* chain_ = nullptr;
    std::vector<uint8_t> args_;
    size_t args_size_ = 0;
    uint64_t data_size_ = 0;
};

// The reply of one request: fuse_out_header, then the argument bytes in order.
class FuseReply {
public:
    void start(uint64_t unique) {
        buf_.resize(sizeof(fuse_out_header));
        unique_ = unique;
        direct_data_ = 0;
    }
    template <typename T>
    void add(const T& value) {
        add_bytes(&value, sizeof(T));
    }
    void add_bytes(const void* p, size_t n);
    // Room for more, from the start of the reply; grows the buffer.
    uint8_t* extend(size_t n);
    size_t size() const { return buf_.size(); }
    void truncate(size_t n) { buf_.resize(n); }

    // READ: `n` bytes already placed in the chain right after the header.
    void set_direct_data(size_t n) { direct_data_ = n; }

    // Writes the reply (or only a header carrying -err when err != 0) into the chain's
    // writable part; returns the used length (0 when there is no room for a header).
    uint32_t send(const DescriptorChain& chain, int err);

private:
    std::vector<uint8_t> buf_;
    uint64_t unique_ = 0;
    size_t direct_data_ = 0;
};

} // namespace runvm::broker::fs
