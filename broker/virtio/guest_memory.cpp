// GuestMemory: region bookkeeping and overflow-safe address translation.
#include "broker/virtio/guest_memory.hpp"

#include <cerrno>
#include <cstdio>
#include <string>

namespace runvm::broker {

namespace {

bool overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
    // Both ranges are known not to wrap, so end - 1 is safe.
    return a <= b + (b_size - 1) && b <= a + (a_size - 1);
}

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

} // namespace

Result<void> GuestMemory::add_region(uint64_t guest_phys_addr, uint64_t size, uint64_t user_addr,
                                     Mapping mapping, uint64_t mapping_offset) {
    const std::string name = "memory region gpa " + hex(guest_phys_addr) + " size " + hex(size);
    if (size == 0) {
        return Err(Error::with_errno(EINVAL, name + ": empty"));
    }
    if (guest_phys_addr + size - 1 < guest_phys_addr || user_addr + size - 1 < user_addr) {
        return Err(Error::with_errno(EINVAL, name + ": address range overflows 64 bits"));
    }
    if (!range_inside(mapping_offset, size, 0, mapping.size())) {
        return Err(Error::with_errno(EINVAL, name + ": outside its mapping"));
    }
    for (const auto& r : regions_) {
        if (overlaps(guest_phys_addr, size, r.guest_phys_addr, r.size)) {
            return Err(Error::with_errno(EINVAL, name + ": overlaps region at gpa " +
                                                     hex(r.guest_phys_addr)));
        }
        if (overlaps(user_addr, size, r.user_addr, r.size)) {
            return Err(Error::with_errno(EINVAL, name + ": user address " + hex(user_addr) +
                                                     " overlaps region at " + hex(r.user_addr)));
        }
    }
    regions_.push_back(
        MemoryRegion{guest_phys_addr, size, user_addr, mapping.data() + mapping_offset});
    mappings_.push_back(std::move(mapping));
    return Ok();
}

uint8_t* GuestMemory::translate(uint64_t gpa, uint64_t len) const {
    for (const auto& r : regions_) {
        if (range_inside(gpa, len, r.guest_phys_addr, r.size)) {
            return r.host + (gpa - r.guest_phys_addr);
        }
    }
    return nullptr;
}

uint8_t* GuestMemory::translate_user(uint64_t uva, uint64_t len) const {
    for (const auto& r : regions_) {
        if (range_inside(uva, len, r.user_addr, r.size)) {
            return r.host + (uva - r.user_addr);
        }
    }
    return nullptr;
}

bool GuestMemory::user_to_guest(uint64_t uva, uint64_t* gpa) const {
    for (const auto& r : regions_) {
        if (range_inside(uva, 1, r.user_addr, r.size)) {
            *gpa = r.guest_phys_addr + (uva - r.user_addr);
            return true;
        }
    }
    return false;
}

} // namespace runvm::broker
