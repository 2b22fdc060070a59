// VmIdLease: flock on a slot file; check_vm_id_range: the range against subuid(5) files.
#include "shim/sandbox/vm_ids.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/secure_dir.hpp"
#include "base/text.hpp"

namespace runvm::shim {

namespace {

// FNV-1a: a stable start slot for a name.
uint32_t name_hash(std::string_view name) {
    uint32_t h = 2166136261U;
    for (const char c : name) {
        h = (h ^ static_cast<unsigned char>(c)) * 16777619U;
    }
    return h;
}

} // namespace

Result<VmIdLease> VmIdLease::acquire(const std::string& lock_dir, config::IdRange range,
                                     std::string_view vm_name) {
    RUNVM_ASSIGN_OR_RETURN(UniqueFd dir, open_owned_dir(lock_dir, 0700));
    const uint32_t start = name_hash(vm_name) % range.count;
    for (uint32_t i = 0; i < range.count; ++i) {
        const uint32_t slot = (start + i) % range.count;
        const std::string name = std::to_string(slot);
        UniqueFd lock(
            ::openat(dir.get(), name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!lock) {
            return Err(Error::from_errno("open VM id lock " + lock_dir + "/" + name));
        }
        if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK) {
                continue;
            }
            return Err(Error::from_errno("flock VM id lock " + lock_dir + "/" + name));
        }
        // Who holds it, for whoever looks: the lock is what counts.
        const std::string holder = std::string(vm_name) + "\n";
        if (::ftruncate(lock.get(), 0) != 0 ||
            ::pwrite(lock.get(), holder.data(), holder.size(), 0) < 0) {
            return Err(Error::from_errno("write VM id lock " + lock_dir + "/" + name));
        }
        VmIdLease lease;
        lease.lock_ = std::move(lock);
        lease.id_ = range.first + slot;
        return lease;
    }
    return Err(Error::with_errno(EAGAIN, "jail_vm_ids: all " + std::to_string(range.count) +
                                             " ids are held by running VMs (" + lock_dir + ")"));
}

Result<void> check_vm_id_range(config::IdRange range, std::string_view jail_user,
                               const std::string& file, const std::string& text) {
    bool jail_user_seen = false;
    size_t line_no = 0;
    for (const auto line : split(text, '\n')) {
        ++line_no;
        const auto fields = split(line, ':');
        if (fields.size() != 3) {
            continue; // not a range: subuid(5) readers skip such lines too
        }
        const auto start = parse_u64(fields[1]);
        const auto count = parse_u64(fields[2]);
        if (!start || !count) {
            continue;
        }
        const bool jail_users_first = fields[0] == jail_user && !jail_user_seen;
        jail_user_seen = jail_user_seen || fields[0] == jail_user;
        if (fields[0] == jail_user && !jail_users_first) {
            continue; // the jail user's further ranges: where an operator records this one
        }
        const uint64_t first = range.first;
        if (first < *start + *count && *start < first + range.count) {
            return Err(Error::with_errno(
                EINVAL, "jail_vm_ids " + std::to_string(range.first) + ":" +
                            std::to_string(range.count) + " overlaps " + file + ":" +
                            std::to_string(line_no) + " (" + std::string(line) +
                            "): a VM's processes would share ids with those users"));
        }
    }
    return Ok();
}

} // namespace runvm::shim
