// Mapping: the one owner of an mmap()ed region; munmap happens only here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "base/result.hpp"

namespace runvm {

class Mapping {
public:
    Mapping() = default;
    ~Mapping() { reset(); }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    Mapping(Mapping&& o) noexcept
        : addr_(std::exchange(o.addr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    Mapping& operator=(Mapping&& o) noexcept {
        if (this != &o) {
            reset();
            addr_ = std::exchange(o.addr_, nullptr);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }

    // mmap(nullptr, size, prot, flags, fd, offset); `what` names the object in errors.
    static Result<Mapping> map(size_t size, int prot, int flags, int fd, int64_t offset,
                               const char* what);

    uint8_t* data() const { return static_cast<uint8_t*>(addr_); }
    size_t size() const { return size_; }
    bool valid() const { return addr_ != nullptr; }

    void reset();

private:
    Mapping(void* addr, size_t size) : addr_(addr), size_(size) {}
    void* addr_ = nullptr;
    size_t size_ = 0;
};

} // namespace runvm
