// GuestMemory: memfd creation, mapping and bounds-checked copies.
#include "vmm/memory/guest_memory.hpp"

#include <cstdio>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace runvm::vmm {

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
    return buf;
}

Result<GuestMemory> GuestMemory::create(uint64_t ram_bytes) {
    if (ram_bytes == 0 || ram_bytes % 0x200000 != 0) {
        return Err(Error::msg("guest memory size " + hex(ram_bytes) +
                              ": must be a non-zero multiple of 2 MiB"));
    }
    UniqueFd fd(::memfd_create("runvm-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd) {
        return Err(Error::from_errno("memfd_create runvm-guest-ram"));
    }
    if (::ftruncate(fd.get(), static_cast<off_t>(ram_bytes)) != 0) {
        return Err(Error::from_errno("ftruncate guest RAM memfd to " + hex(ram_bytes)));
    }
    // The size is fixed from here on: the broker maps the same file.
    if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) {
        return Err(Error::from_errno("fcntl F_ADD_SEALS guest RAM memfd"));
    }
    RUNVM_ASSIGN_OR_RETURN(auto map, Mapping::map(ram_bytes, PROT_READ | PROT_WRITE,
                                                  MAP_SHARED | MAP_NORESERVE, fd.get(), 0,
                                                  "guest RAM memfd"));
    // Transparent huge pages where the host allows them for shmem (shmem_enabled advise,
    // within_size or always): KVM then maps guest RAM with 2 MiB pages in the nested page
    // tables, and a booting guest takes one nested page fault per 2 MiB instead of one per
    // 4 KiB page it touches (nested under TCG: ~8000 faults down to ~100 for a Linux
    // boot, docs/vmm.md). The kernel aligns shmem mappings to 2 MiB for this. EINVAL
    // (no THP in the host kernel) changes nothing, so the result is deliberately ignored.
    (void)::madvise(map.data(), ram_bytes, MADV_HUGEPAGE);
    std::vector<MappedRegion> regions;
    for (const auto& r : layout::ram_regions(ram_bytes)) {
        regions.push_back({r.gpa, r.size, r.file_offset, map.data() + r.file_offset});
    }
    return GuestMemory(std::move(fd), std::move(map), std::move(regions));
}

uint8_t* GuestMemory::host_range(uint64_t gpa, uint64_t len) const {
    for (const auto& r : regions_) {
        // Written so that no sum can overflow: gpa and len come from the guest.
        if (gpa >= r.gpa && gpa - r.gpa <= r.size && len <= r.size - (gpa - r.gpa)) {
            return r.host + (gpa - r.gpa);
        }
    }
    return nullptr;
}

Result<void> GuestMemory::write(uint64_t gpa, std::span<const uint8_t> bytes) {
    uint8_t* dst = host_range(gpa, bytes.size());
    if (dst == nullptr) {
        return Err(Error::msg("guest write [" + hex(gpa) + ", +" + hex(bytes.size()) +
                              "): outside guest RAM"));
    }
    if (!bytes.empty()) {
        std::memcpy(dst, bytes.data(), bytes.size());
    }
    return Ok();
}

Result<void> GuestMemory::read(uint64_t gpa, std::span<uint8_t> out) const {
    const uint8_t* src = host_range(gpa, out.size());
    if (src == nullptr) {
        return Err(Error::msg("guest read [" + hex(gpa) + ", +" + hex(out.size()) +
                              "): outside guest RAM"));
    }
    if (!out.empty()) {
        std::memcpy(out.data(), src, out.size());
    }
    return Ok();
}

Result<void> GuestMemory::fill(uint64_t gpa, uint8_t value, uint64_t len) {
    uint8_t* dst = host_range(gpa, len);
    if (dst == nullptr) {
        return Err(
            Error::msg("guest fill [" + hex(gpa) + ", +" + hex(len) + "): outside guest RAM"));
    }
    std::memset(dst, value, len);
    return Ok();
}

} // namespace runvm::vmm
