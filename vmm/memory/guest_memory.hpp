// GuestMemory: guest RAM as one memfd (so the broker can map it too), mapped once here,
// with bounds-checked access by guest-physical address.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "base/mapping.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "vmm/memory/layout.hpp"

namespace runvm::vmm {

struct MappedRegion {
    uint64_t gpa;
    uint64_t size;
    uint64_t file_offset;
    uint8_t* host;
};

class GuestMemory {
public:
    // Creates a memfd of ram_bytes (page-aligned) laid out by layout::ram_regions.
    static Result<GuestMemory> create(uint64_t ram_bytes);

    const std::vector<MappedRegion>& regions() const { return regions_; }
    int fd() const { return fd_.get(); }
    uint64_t ram_bytes() const { return map_.size(); }
    // End of the region that starts at guest-physical 0 (below the 32-bit gap).
    uint64_t low_ram_end() const { return regions_.front().size; }

    // Host address of [gpa, gpa + len) when it lies inside one region, else nullptr.
    // Every access by guest-supplied address goes through here.
    uint8_t* host_range(uint64_t gpa, uint64_t len) const;
    bool contains(uint64_t gpa, uint64_t len) const { return host_range(gpa, len) != nullptr; }

    Result<void> write(uint64_t gpa, std::span<const uint8_t> bytes);
    Result<void> read(uint64_t gpa, std::span<uint8_t> out) const;
    Result<void> fill(uint64_t gpa, uint8_t value, uint64_t len);

    template <typename T>
    Result<void> write_obj(uint64_t gpa, const T& obj) {
        static_assert(std::is_trivially_copyable_v<T>);
        return write(gpa, std::span(reinterpret_cast<const uint8_t*>(&obj), sizeof(T)));
    }
    template <typename T>
    Result<T> read_obj(uint64_t gpa) const {
        static_assert(std::is_trivially_copyable_v<T>);
        T obj;
        RUNVM_TRY(read(gpa, std::span(reinterpret_cast<uint8_t*>(&obj), sizeof(T))));
        return obj;
    }

private:
    GuestMemory(UniqueFd fd, Mapping map, std::vector<MappedRegion> regions)
        : fd_(std::move(fd)), map_(std::move(map)), regions_(std::move(regions)) {}
    UniqueFd fd_;
    Mapping map_;
    std::vector<MappedRegion> regions_;
};

std::string hex(uint64_t v);

} // namespace runvm::vmm
