// FuseTestClient: plays the guest's FUSE driver against an FsDevice in-process (DirectQueues):
// builds requests byte by byte, places them on a ring, kicks and reads the reply back.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <linux/fuse.h>

#include "broker/devices/fs/device.hpp"
#include "broker/testing/direct_queues.hpp"

namespace runvm::broker::fs::testing {

struct FuseAnswer {
    bool answered = false; // the device wrote at least a header
    uint32_t used = 0;     // used length the device reported
    int error = 0;         // positive errno (the header carries it negated)
    uint64_t unique = 0;
    std::vector<uint8_t> data; // reply arguments after fuse_out_header

    template <typename T>
    T as(size_t offset = 0) const {
        T v{};
        if (offset + sizeof(T) <= data.size()) {
            std::memcpy(&v, data.data() + offset, sizeof(T));
        }
        return v;
    }
};

// Argument bytes in order: structs, then NUL-terminated strings, then raw bytes.
class FuseArgs {
public:
    template <typename T>
    FuseArgs& add(const T& v) {
        const auto* p = reinterpret_cast<const uint8_t*>(&v);
        bytes_.insert(bytes_.end(), p, p + sizeof(T));
        return *this;
    }
    FuseArgs& str(const std::string& s) {
        bytes_.insert(bytes_.end(), s.begin(), s.end());
        bytes_.push_back(0);
        return *this;
    }
    FuseArgs& raw(const std::string& s) {
        bytes_.insert(bytes_.end(), s.begin(), s.end());
        return *this;
    }
    const std::vector<uint8_t>& bytes() const { return bytes_; }

private:
    std::vector<uint8_t> bytes_;
};

class FuseTestClient {
public:
    static Result<std::unique_ptr<FuseTestClient>> create(const FsOptions& options);

    // One request on the request queue with `out_room` bytes of writable buffer.
    FuseAnswer call(uint32_t opcode, uint64_t nodeid, const FuseArgs& args,
                    uint32_t out_room = 8192, uint32_t uid = 0, uint32_t gid = 0);
    // Raw readable bytes (header included, nothing fixed up) and `out_room` writable bytes,
    // the readable part split in `split` descriptors.
    FuseAnswer raw(const std::vector<uint8_t>& readable, uint32_t out_room, uint16_t queue = 1,
                   int split = 1);

    // Shortcuts that fail the calling test through the returned errno.
    FuseAnswer init();
    FuseAnswer lookup(uint64_t parent, const std::string& name) {
        return call(FUSE_LOOKUP, parent, FuseArgs().str(name));
    }
    FuseAnswer create(uint64_t parent, const std::string& name, uint32_t flags, uint32_t mode,
                      uint32_t uid = 0, uint32_t gid = 0);
    FuseAnswer open(uint64_t node, uint32_t flags, bool dir = false);
    FuseAnswer write(uint64_t node, uint64_t fh, uint64_t offset, const std::string& data);
    FuseAnswer read(uint64_t node, uint64_t fh, uint64_t offset, uint32_t size);
    FuseAnswer release(uint64_t node, uint64_t fh, bool dir = false);
    FuseAnswer readdir(uint64_t node, uint64_t fh, uint64_t offset, uint32_t size, bool plus);

    FsDevice& device() { return *device_; }
    runvm::broker::testing::DirectQueues& queues() { return *queues_; }

private:
    FuseTestClient() = default;
    std::unique_ptr<FsDevice> device_;
    std::unique_ptr<runvm::broker::testing::DirectQueues> queues_;
    uint64_t unique_ = 1;
};

} // namespace runvm::broker::fs::testing
