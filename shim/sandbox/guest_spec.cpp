// Translates a container's spec for the guest: host namespaces and host bind mounts.
#include "shim/sandbox/guest_spec.hpp"

#include <algorithm>

#include <sys/stat.h>

#include "shim/sandbox/sandbox_network.hpp"

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

// The last of ro/rw wins, as mount(8) reads them.
bool readonly(const oci::Mount& m) {
    bool ro = false;
    for (const auto& o : m.options.value_or(std::vector<std::string>{})) {
        if (o == "ro") {
            ro = true;
        } else if (o == "rw") {
            ro = false;
        }
    }
    return ro;
}

bool recursive(const oci::Mount& m) {
    const auto opts = m.options.value_or(std::vector<std::string>{});
    return std::find(opts.begin(), opts.end(), "rbind") != opts.end();
}

bool under(const std::string& path, const std::string& dir) {
    return !dir.empty() && path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
           path[dir.size()] == '/';
}

} // namespace

Result<oci::Spec> guest_spec(const oci::Spec& spec, const std::string& rootfs_dir,
                             std::vector<std::string>* notes, std::vector<HostShare>* shares) {
    auto note = [notes](std::string line) {
        if (notes) {
            notes->push_back(std::move(line));
        }
    };
    RUNVM_TRY(require_network_namespace(spec));
    oci::Spec out = spec;
    if (out.linux && out.linux->namespaces) {
        auto& namespaces = *out.linux->namespaces;
        // The VM is the container's network namespace (as in Kata): it holds exactly the
        // interfaces the sandbox gives it (none without a network), so the container sees
        // what a new namespace would give it. A second one in the guest adds only its cost:
        // setting up and tearing down a network namespace is slow kernel work under TCG.
        // The container joins the guest's by path, so net.* sysctls still find their
        // namespace (and apply to the VM's network, the container's own).
        for (auto& ns : namespaces) {
            if (ns.type == "network") {
                ns.path = kGuestNetworkNamespace;
            } else if (ns.path && !ns.path->empty()) {
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
        if (m.destination == "/dev/shm" && S_ISDIR(st.st_mode)) {
            note("bind mount of " + source + " at /dev/shm: a tmpfs in the guest");
            m.type = "tmpfs";
            m.source = "shm";
            m.options = std::vector<std::string>{"nosuid", "noexec", "nodev", "mode=1777"};
            kept.push_back(std::move(m));
            continue;
        }
        // Sockets, FIFOs and devices mean nothing across virtio-fs (the broker opens regular
        // files only): they are left out like host files without virtio-fs.
        if (shares && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
            HostShare share;
            share.source = source;
            share.name = std::to_string(shares->size());
            share.directory = S_ISDIR(st.st_mode);
            share.readonly = readonly(m);
            share.recursive = recursive(m);
            note("bind mount of host " + std::string(share.directory ? "directory " : "file ") +
                 source + " at " + m.destination + ": virtio-fs share " + kShareTag + "/" +
                 share.name + (share.readonly ? " (read-only)" : ""));
            m.source = std::string(kGuestShareDir) + "/" + share.name;
            shares->push_back(std::move(share));
            kept.push_back(std::move(m));
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            note("bind mount of host file " + source + " at " + m.destination +
                 (shares ? ": left out (not a regular file: virtio-fs cannot carry it)"
                         : ": left out (host files reach the guest through virtio-fs, which "
                           "needs root)"));
            continue;
        }
        return Err(Error::with_errno(
            ENOTSUP, "bind mount of host directory " + source + " at " + m.destination +
                         ": host directories reach the guest through virtio-fs, which needs root"));
    }
    out.mounts = std::move(kept);
    return out;
}

} // namespace runvm::shim
