// Boot sequence of the guest's PID 1.
#include "guest_agent/pid1/pid1.hpp"

#include <cerrno>

#include <sys/stat.h>
#include <unistd.h>

#include "base/io.hpp"
#include "guest_agent/network/loopback.hpp"
#include "guest_agent/pid1/early_mounts.hpp"
#include "guest_agent/pid1/initramfs_root.hpp"
#include "guest_agent/pid1/modules.hpp"

namespace runvm::agent {

Result<void> run_pid1_boot(const Pid1Options& o) {
    // Modules first: their files are in the initramfs, which is out of reach once left.
    struct stat st;
    if (::stat(o.module_manifest.c_str(), &st) == 0) {
        RUNVM_ASSIGN_OR_RETURN(const std::string text, read_file(o.module_manifest));
        RUNVM_ASSIGN_OR_RETURN(const auto modules, parse_module_manifest(text));
        RUNVM_TRY(load_modules(modules));
    }
    RUNVM_TRY(leave_initramfs_root());
    RUNVM_TRY(mount_early_filesystems());
    if (::sethostname(o.hostname.data(), o.hostname.size()) < 0) {
        return Err(Error::from_errno("sethostname " + o.hostname));
    }
    // Containers run in this network namespace (the VM is theirs): loopback, as a new
    // namespace's, but up, as runc's containers find it.
    RUNVM_TRY(net::bring_up_loopback());
    return Ok();
}

} // namespace runvm::agent
