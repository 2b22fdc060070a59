// Mapping: mmap/munmap.
#include "base/mapping.hpp"

#include <cerrno>
#include <string>
#include <sys/mman.h>

namespace runvm {

Result<Mapping> Mapping::map(size_t size, int prot, int flags, int fd, int64_t offset,
                             const char* what) {
    void* addr = ::mmap(nullptr, size, prot, flags, fd, static_cast<off_t>(offset));
    if (addr == MAP_FAILED) {
        return Err(Error::from_errno(std::string("mmap ") + what));
    }
    return Mapping(addr, size);
}

void Mapping::reset() {
    if (addr_ != nullptr) {
        const int saved = errno;
        ::munmap(addr_, size_);
        errno = saved;
    }
    addr_ = nullptr;
    size_ = 0;
}

} // namespace runvm
