// One uid and gid per VM for its jailed processes (docs/security.md, "One uid per VM"): a
// slot of the configured range, held by a lock for as long as the VM's monitor lives.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "shim/config/runtime_config.hpp"

namespace runvm::shim {

// Root's only: one lock file per slot that was ever leased.
inline constexpr std::string_view kVmIdLockDir = "/run/runvm-vm-ids";

class VmIdLease {
public:
    VmIdLease() = default;

    // The first free slot of `range`, starting from one the VM's name picks (so a VM tends to
    // get the same ids again), locked with flock on <lock_dir>/<slot>: a monitor that dies,
    // however it dies, frees its slot. EAGAIN when every slot is held.
    static Result<VmIdLease> acquire(const std::string& lock_dir, config::IdRange range,
                                     std::string_view vm_name);

    uint32_t id() const { return id_; } // the uid and the gid
    bool held() const { return lock_.valid(); }

private:
    UniqueFd lock_;
    uint32_t id_ = 0;
};

// Refuses a range that overlaps one in /etc/subuid or /etc/subgid (`text` of `file`): another
// user's ids, or the jail user's first range, which its user namespaces map to the guest's
// users. Errors name the file and the line.
Result<void> check_vm_id_range(config::IdRange range, std::string_view jail_user,
                               const std::string& file, const std::string& text);

} // namespace runvm::shim
