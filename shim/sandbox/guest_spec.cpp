// Translates a container's spec for the guest: host namespaces and host bind mounts.
#include "shim/sandbox/guest_spec.hpp"

#include <algorithm>

#include <sys/stat.h>

namespace runvm::shim {

namespace {

bool is_bind(const oci::Mount& m) {
    if (m.type && *m.type == "bind") {
        return true;
    }
    if (!m.options) {
        return false;
    }
    return std::any_of(m.options->begin(), m.options->end(),
                       [](const std::string& o) { return o == "bind" || o == "rbind"; });
}

bool under(const std::string& path, const std::string& dir) {
    return !dir.empty() && path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
           path[dir.size()] == '/';
}

} // namespace

Result<oci::Spec> guest_spec(const oci::Spec& spec, const std::string& rootfs_dir,
                             std::vector<std::string>* notes) {
    auto note = [notes](std::string line) {
        if (notes) {
            notes->push_back(std::move(line));
        }
    };
    oci::Spec out = spec;
    if (out.linux && out.linux->namespaces) {
        for (auto& ns : *out.linux->namespaces) {
            if (ns.path && !ns.path->empty()) {
                note("namespace " + ns.type + " " + *ns.path + ": a new one in the guest");
                ns.path.reset();
            }
        }
    }
    if (!out.mounts) {
        return out;
    }
    std::vector<oci::Mount> kept;
    for (auto& m : *out.mounts) {
        const std::string source = m.source.value_or("");
        if (!is_bind(m) || source.empty() || source[0] != '/' || under(source, rootfs_dir)) {
            kept.push_back(std::move(m));
            continue;
        }
        struct stat st {};
        if (::stat(source.c_str(), &st) != 0) {
            return Err(
                Error::from_errno("bind mount source " + source + " (for " + m.destination + ")"));
        }
        if (!S_ISDIR(st.st_mode)) {
            note("bind mount of host file " + source + " at " + m.destination +
                 ": left out (host files reach the guest with virtio-fs, not yet)");
            continue;
        }
        if (m.destination == "/dev/shm") {
            note("bind mount of " + source + " at /dev/shm: a tmpfs in the guest");
            m.type = "tmpfs";
            m.source = "shm";
            m.options = std::vector<std::string>{"nosuid", "noexec", "nodev", "mode=1777"};
            kept.push_back(std::move(m));
            continue;
        }
        return Err(Error::with_errno(
            ENOTSUP, "bind mount of host directory " + source + " at " + m.destination +
                         ": host directories reach the guest with virtio-fs, not yet"));
    }
    out.mounts = std::move(kept);
    return out;
}

} // namespace runvm::shim
