// MappedFile: open, fstat, mmap.
#include "vmm/memory/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "base/unique_fd.hpp"

namespace runvm::vmm {

Result<MappedFile> MappedFile::open(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open " + path));
    }
    return map(fd.get(), path);
}

Result<MappedFile> MappedFile::map(int fd, const std::string& name) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return Err(Error::from_errno("fstat " + name));
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
        return Err(Error::msg(name + ": not a non-empty regular file"));
    }
    RUNVM_ASSIGN_OR_RETURN(auto map, Mapping::map(static_cast<size_t>(st.st_size), PROT_READ,
                                                  MAP_PRIVATE, fd, 0, name.c_str()));
    return MappedFile(std::move(map));
}

} // namespace runvm::vmm
