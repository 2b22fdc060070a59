// getpwnam/getgrnam, then the uid switch and the capability checks after it.
#include "jail/credentials.hpp"

#include <cerrno>

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace runvm::jail {

Result<Credentials> resolve_credentials(const std::string& user,
                                        const std::vector<std::string>& groups) {
    errno = 0;
    const struct passwd* pw = ::getpwnam(user.c_str());
    if (pw == nullptr) {
        return Err(Error::with_errno(errno == 0 ? ENOENT : errno,
                                     "jail user " + user +
                                         " does not exist (scripts/setup.sh creates it)"));
    }
    if (pw->pw_uid == 0 || pw->pw_gid == 0) {
        return Err(Error::with_errno(EPERM, "jail user " + user + " is root's uid or gid"));
    }
    Credentials creds{pw->pw_uid, pw->pw_gid, {}};
    for (const std::string& name : groups) {
        errno = 0;
        const struct group* gr = ::getgrnam(name.c_str());
        if (gr == nullptr) {
            return Err(Error::with_errno(errno == 0 ? ENOENT : errno,
                                         "--group-add " + name + ": no such group"));
        }
        if (gr->gr_gid == 0) {
            return Err(Error::with_errno(EPERM, "--group-add " + name + ": root's group"));
        }
        creds.groups.push_back(gr->gr_gid);
    }
    return creds;
}

Result<void> drop_to(const Credentials& creds) {
    // The bounding set first: dropping from it needs CAP_SETPCAP, which setresuid takes away.
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
            return Err(Error::from_errno("prctl PR_CAPBSET_DROP " + std::to_string(cap)));
        }
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
        return Err(Error::from_errno("prctl PR_CAP_AMBIENT_CLEAR_ALL"));
    }
    if (::setgroups(creds.groups.size(), creds.groups.data()) != 0) {
        return Err(Error::from_errno("setgroups"));
    }
    if (::setresgid(creds.gid, creds.gid, creds.gid) != 0) {
        return Err(Error::from_errno("setresgid " + std::to_string(creds.gid)));
    }
    if (::setresuid(creds.uid, creds.uid, creds.uid) != 0) {
        return Err(Error::from_errno("setresuid " + std::to_string(creds.uid)));
    }
    cap_t none = ::cap_init();
    if (none == nullptr) {
        return Err(Error::from_errno("cap_init"));
    }
    const int rc = ::cap_set_proc(none);
    const int err = errno;
    ::cap_free(none);
    if (rc != 0) {
        return Err(Error::with_errno(err, "cap_set_proc (empty)"));
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return Err(Error::from_errno("prctl PR_SET_NO_NEW_PRIVS"));
    }
    // What the kernel did is checked, not assumed: a securebits setting (SECBIT_NO_SETUID_FIXUP)
    // would have kept the capabilities across setresuid.
    struct __user_cap_header_struct header {
        _LINUX_CAPABILITY_VERSION_3, 0
    };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::capget(&header, data) != 0) {
        return Err(Error::from_errno("capget"));
    }
    for (const auto& d : data) {
        if (d.effective != 0 || d.permitted != 0 || d.inheritable != 0) {
            return Err(Error::with_errno(EPERM, "capabilities left after setresuid"));
        }
    }
    return Ok();
}

Result<std::vector<cap_value_t>> capability_values(const std::vector<std::string>& names) {
    std::vector<cap_value_t> values;
    for (const std::string& name : names) {
        cap_value_t value = 0;
        if (::cap_from_name(("cap_" + name).c_str(), &value) != 0) {
            return Err(Error::with_errno(EINVAL, "--keep-cap " + name + ": no such capability"));
        }
        values.push_back(value);
    }
    return values;
}

namespace {

bool kept(std::span<const cap_value_t> keep, int cap) {
    for (const cap_value_t k : keep) {
        if (k == cap) {
            return true;
        }
    }
    return false;
}

// Permitted, effective and inheritable become exactly `keep`.
Result<void> set_process_capabilities(std::span<const cap_value_t> keep) {
    cap_t caps = ::cap_init();
    if (caps == nullptr) {
        return Err(Error::from_errno("cap_init"));
    }
    for (const cap_flag_t flag : {CAP_PERMITTED, CAP_EFFECTIVE, CAP_INHERITABLE}) {
        if (!keep.empty() &&
            ::cap_set_flag(caps, flag, static_cast<int>(keep.size()), keep.data(), CAP_SET) != 0) {
            ::cap_free(caps);
            return Err(Error::from_errno("cap_set_flag"));
        }
    }
    const int rc = ::cap_set_proc(caps);
    const int err = errno;
    ::cap_free(caps);
    if (rc != 0) {
        return Err(Error::with_errno(err, "cap_set_proc (the kept capabilities)"));
    }
    return Ok();
}

} // namespace

Result<void> enter_user_namespace(int userns, uid_t uid, gid_t gid,
                                  std::span<const cap_value_t> keep) {
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
        return Err(Error::from_errno("prctl PR_CAP_AMBIENT_CLEAR_ALL"));
    }
    if (::setns(userns, CLONE_NEWUSER) != 0) {
        return Err(Error::from_errno("setns user namespace"));
    }
    if (::setgroups(0, nullptr) != 0) {
        return Err(Error::from_errno("setgroups (none) in the user namespace"));
    }
    // The bounding set while CAP_SETPCAP is still there: nothing outside `keep` comes back at
    // the exec, even to a root of the namespace.
    for (int cap = 0; !keep.empty() && cap <= CAP_LAST_CAP; ++cap) {
        if (!kept(keep, cap) && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
            return Err(Error::from_errno("prctl PR_CAPBSET_DROP " + std::to_string(cap)));
        }
    }
    if (::setresgid(gid, gid, gid) != 0) {
        return Err(
            Error::from_errno("setresgid " + std::to_string(gid) + " in the user namespace"));
    }
    // A change to a non-zero uid empties the permitted set unless it is asked to keep it.
    if (uid != 0 && !keep.empty() && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
        return Err(Error::from_errno("prctl PR_SET_KEEPCAPS"));
    }
    if (::setresuid(uid, uid, uid) != 0) {
        return Err(
            Error::from_errno("setresuid " + std::to_string(uid) + " in the user namespace"));
    }
    if (!keep.empty()) {
        RUNVM_TRY(set_process_capabilities(keep));
        for (const cap_value_t cap : keep) {
            if (uid != 0 && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
                return Err(Error::from_errno("prctl PR_CAP_AMBIENT_RAISE " + std::to_string(cap)));
            }
        }
        if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
            return Err(Error::from_errno("prctl PR_SET_KEEPCAPS 0"));
        }
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return Err(Error::from_errno("prctl PR_SET_NO_NEW_PRIVS"));
    }
    return Ok();
}

} // namespace runvm::jail
