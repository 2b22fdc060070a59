// Mount option table: names runc knows, with clear/set semantics for the negated ones.
#include "guest_agent/launcher/mount_options.hpp"

#include <sys/mount.h>

namespace runvm::agent {

namespace {
struct FlagOption {
    const char* name;
    bool clear;
    unsigned long flag;
};

constexpr FlagOption kFlags[] = {
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"iversion", false, MS_I_VERSION},
    {"lazytime", false, MS_LAZYTIME},
    {"loud", true, MS_SILENT},
    {"mand", false, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"noiversion", true, MS_I_VERSION},
    {"nolazytime", true, MS_LAZYTIME},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"silent", false, MS_SILENT},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

struct PropagationOption {
    const char* name;
    unsigned long flag;
};

constexpr PropagationOption kPropagation[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};
} // namespace

bool MountOptions::is_bind() const {
    return (flags & MS_BIND) != 0;
}

MountOptions parse_mount_options(const std::vector<std::string>& options) {
    MountOptions out;
    for (const auto& o : options) {
        bool known = false;
        for (const auto& f : kFlags) {
            if (o == f.name) {
                out.flags = f.clear ? (out.flags & ~f.flag) : (out.flags | f.flag);
                known = true;
                break;
            }
        }
        for (const auto& p : kPropagation) {
            if (!known && o == p.name) {
                out.propagation.push_back(p.flag);
                known = true;
            }
        }
        if (!known) {
            out.data += (out.data.empty() ? "" : ",") + o;
        }
    }
    return out;
}

Result<unsigned long> parse_propagation(const std::string& name) {
    for (const auto& p : kPropagation) {
        if (name == p.name) {
            return p.flag;
        }
    }
    return Err(
        Error::with_errno(EINVAL, "linux.rootfsPropagation: unknown value \"" + name + "\""));
}

} // namespace runvm::agent
