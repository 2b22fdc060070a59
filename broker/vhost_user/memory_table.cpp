// SET_MEM_TABLE parsing and region mapping.
#include "broker/vhost_user/memory_table.hpp"

#include <cerrno>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runvm::broker::vhost_user {

Result<std::unique_ptr<GuestMemory>> map_memory_table(const Message& msg) {
    MemoryHeader head{};
    if (msg.payload.size() < sizeof(head)) {
        return Err(Error::with_errno(EINVAL, "SET_MEM_TABLE: payload shorter than its header"));
    }
    std::memcpy(&head, msg.payload.data(), sizeof(head));
    if (head.nregions == 0 || head.nregions > MAX_MEM_REGIONS) {
        return Err(Error::with_errno(EINVAL, "SET_MEM_TABLE: " + std::to_string(head.nregions) +
                                                 " regions (want 1-8)"));
    }
    if (msg.payload.size() != sizeof(head) + head.nregions * sizeof(MemoryRegionDesc)) {
        return Err(Error::with_errno(EINVAL, "SET_MEM_TABLE: payload size " +
                                                 std::to_string(msg.payload.size()) + " for " +
                                                 std::to_string(head.nregions) + " regions"));
    }
    if (msg.fds.size() != head.nregions) {
        return Err(Error::with_errno(EBADF, "SET_MEM_TABLE: " + std::to_string(msg.fds.size()) +
                                                " fds for " + std::to_string(head.nregions) +
                                                " regions"));
    }
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    auto memory = std::make_unique<GuestMemory>();
    for (uint32_t i = 0; i < head.nregions; ++i) {
        MemoryRegionDesc r;
        std::memcpy(&r, msg.payload.data() + sizeof(head) + i * sizeof(r), sizeof(r));
        const std::string name = "SET_MEM_TABLE region " + std::to_string(i);
        const int fd = msg.fds[i].get();
        // Touching a page past the end of the file would raise SIGBUS in the broker.
        struct stat st {};
        if (::fstat(fd, &st) < 0) {
            return Err(Error::from_errno(name + ": fstat"));
        }
        const uint64_t file_size = static_cast<uint64_t>(st.st_size);
        if (r.memory_size == 0 || !range_inside(r.mmap_offset, r.memory_size, 0, file_size)) {
            return Err(Error::with_errno(
                EINVAL, name + ": offset " + std::to_string(r.mmap_offset) + " size " +
                            std::to_string(r.memory_size) + " outside its fd of " +
                            std::to_string(file_size) + " bytes"));
        }
        const uint64_t map_offset = r.mmap_offset & ~(page - 1);
        const uint64_t delta = r.mmap_offset - map_offset;
        RUNVM_ASSIGN_OR_RETURN(Mapping mapping,
                               Mapping::map(static_cast<size_t>(r.memory_size + delta),
                                            PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                                            static_cast<int64_t>(map_offset), name.c_str()));
        RUNVM_TRY(memory->add_region(r.guest_phys_addr, r.memory_size, r.userspace_addr,
                                     std::move(mapping), delta));
    }
    return memory;
}

} // namespace runvm::broker::vhost_user
