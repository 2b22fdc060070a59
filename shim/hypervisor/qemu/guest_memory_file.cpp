// Guest RAM on a detached huge-page tmpfs.
#include "shim/hypervisor/qemu/guest_memory_file.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/scope_guard.hpp"

namespace runvm::shim {

Result<UniqueFd> open_huge_guest_memory(const std::string& scratch, uint64_t bytes) {
    if (::mkdir(scratch.c_str(), 0700) < 0) {
        return Err(Error::from_errno("mkdir " + scratch));
    }
    ScopeGuard remove_dir([&] { ::rmdir(scratch.c_str()); });
    const std::string opts = "huge=within_size,mode=0700,size=" + std::to_string(bytes);
    if (::mount("runvm-guest-ram", scratch.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                opts.c_str()) < 0) {
        return Err(Error::from_errno("mount tmpfs (" + opts + ") on " + scratch));
    }
    ScopeGuard detach([&] { ::umount2(scratch.c_str(), MNT_DETACH); });
    UniqueFd fd(::open(scratch.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (!fd) {
        return Err(Error::from_errno("open O_TMPFILE in " + scratch));
    }
    if (::ftruncate(fd.get(), static_cast<off_t>(bytes)) < 0) {
        return Err(Error::from_errno("ftruncate guest memory file to " + std::to_string(bytes)));
    }
    return fd;
}

std::string fd_path_for_peer(int fd) {
    return "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd);
}

} // namespace runvm::shim
