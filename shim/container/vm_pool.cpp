// Pool keys, which containers may take a pooled VM, and the claim of one.
#include "shim/container/vm_pool.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <tuple>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fnv1a.hpp"
#include "base/unique_fd.hpp"
#include "shim/config/annotations.hpp"
#include "shim/config/config_values.hpp"
#include "shim/config/helper_paths.hpp"
#include "shim/container/container_ops.hpp"
#include "shim/container/control_channel.hpp"
#include "shim/container/pod.hpp"
#include "shim/hypervisor/jail_command.hpp"
#include "shim/sandbox/sandbox_network.hpp"
#include "shim/sandbox/vm_sizing.hpp"

namespace runvm::shim {

namespace {

std::string hex16(uint64_t h) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

// A file's identity: a rebuilt kernel, initramfs or runvm is another VM.
std::string file_identity(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return path + ":missing";
    }
    return path + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
           std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

} // namespace

std::string pool_key(const config::RuntimeConfig& s) {
    const std::string shape =
        std::string(config::hypervisor_name(s.hypervisor)) + "\n" +
        file_identity(config::guest_kernel(s)) + "\n" + file_identity(config::guest_initrd(s)) +
        "\n" + file_identity("/proc/self/exe") + "\n" + s.kernel_cmdline + "\n" +
        std::to_string(s.vcpus) + "/" + std::to_string(s.memory_mib) + "/" +
        std::to_string(s.tcg_tb_size_mib) + "/" + std::to_string(s.log_max_kib) + "/" +
        std::to_string(s.vm_overhead_mib) + "\n" +
        std::string(config::rootfs_mode_name(config::resolve_rootfs_mode(s.rootfs, ::geteuid()))) +
        "\n" + s.paths.broker + "\n" + s.paths.vmm + "\n" + s.paths.qemu + "\n" +
        (s.jail ? "jail:" + s.jail_user : "nojail") + ":" + std::to_string(s.jail_vm_ids.first) +
        ":" + std::to_string(s.jail_vm_ids.count) + "\nspare links " +
        std::to_string(kPoolSpareLinks);
    return hex16(fnv1a64(shape));
}

std::string vm_template_key(const config::RuntimeConfig& s) {
    std::string files;
    for (const auto& [configured, name, what] :
         {std::tuple{s.paths.vmm, config::HelperPaths{}.vmm, "vmm"},
          std::tuple{s.paths.broker, config::HelperPaths{}.broker, "broker"}}) {
        const std::string program = config::helper_program(configured, name, what);
        auto path = absolute_program(program);
        files += file_identity(path ? *path : program) + "\n";
    }
    return hex16(fnv1a64(pool_key(s) + "\n" + files));
}

std::optional<std::string> pool_refusal(const oci::Spec& spec, const std::string& id,
                                        const config::RuntimeConfig& settings, uid_t euid) {
    if (settings.template_mode == config::TemplateMode::off) {
        return "template: off";
    }
    if (euid != 0) {
        return "not root (a pooled VM takes its container's rootfs through its share)";
    }
    if (config::resolve_rootfs_mode(settings.rootfs, euid) != config::RootfsMode::virtiofs) {
        return "rootfs: block";
    }
    if (is_pool_vm_id(id)) {
        return "the id is a pooled VM's";
    }
    // The host's network: a VM of its own refuses it, naming why. Taken from the pool it
    // would cost a good pooled VM (discarded as broken) and a refill, for the same refusal.
    if (!require_network_namespace(spec)) {
        return "no network namespace (refused)";
    }
    if (spec.annotations) {
        const PodRole role = pod_placement(id, *spec.annotations).role;
        if (role == PodRole::member) {
            return "a pod's app container (it joins its pod's VM)";
        }
        if (role == PodRole::sandbox) {
            auto totals = pod_sandbox_resources(std::nullopt, *spec.annotations);
            if (!totals || *totals) {
                return "the pod's memory or CPU totals (the VM is sized from them)";
            }
        }
        for (const auto& a : *spec.annotations) {
            if (a.first.rfind(config::kAnnotationPrefix, 0) == 0) {
                return "annotation " + a.first;
            }
        }
    }
    if (spec.linux) {
        if (const auto& r = spec.linux->resources) {
            if ((r->memory && r->memory->limit && *r->memory->limit > 0) ||
                (r->cpu && ((r->cpu->quota && *r->cpu->quota > 0) ||
                            (r->cpu->cpus && !r->cpu->cpus->empty())))) {
                return "memory or CPU limits (the VM is sized from them)";
            }
        }
    }
    return std::nullopt;
}

bool is_pool_vm_id(const std::string& id) {
    return id.rfind(kPoolIdPrefix, 0) == 0;
}

std::string new_pool_vm_id(const std::string& key) {
    uint32_t r = 0;
    if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) {
        r = static_cast<uint32_t>(::getpid()) ^ static_cast<uint32_t>(::time(nullptr));
    }
    char suffix[9];
    std::snprintf(suffix, sizeof suffix, "%08x", r);
    return std::string(kPoolIdPrefix) + key + "-" + suffix;
}

std::string pool_ready_mark(const ContainerStore& store, const std::string& id) {
    return store.dir(id) + "/pool-ready";
}

std::string pool_claim_mark(const ContainerStore& store, const std::string& id) {
    return store.dir(id) + "/pool-claim";
}

Result<bool> take_pool_claim(const ContainerStore& store, const std::string& id) {
    const std::string mark = pool_claim_mark(store, id);
    UniqueFd fd(::open(mark.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd) {
        return true;
    }
    if (errno == EEXIST) {
        return false;
    }
    return Err(Error::from_errno("create " + mark));
}

std::vector<PoolEntry> list_pool(const ContainerStore& store) {
    std::vector<PoolEntry> entries;
    auto ids = store.list();
    if (!ids) {
        return entries;
    }
    for (const auto& id : *ids) {
        if (!is_pool_vm_id(id)) {
            continue;
        }
        auto rec = store.load(id);
        if (!rec) {
            continue;
        }
        PoolEntry e;
        e.id = id;
        const auto key = rec->annotations.find(kPoolKeyAnnotation);
        e.key = key == rec->annotations.end() ? "" : key->second;
        e.monitor_pid = rec->monitor_pid;
        e.created = rec->created;
        if (!rec->monitor()) {
            e.state = "stopped";
        } else if (::access(pool_claim_mark(store, id).c_str(), F_OK) == 0) {
            e.state = "claimed";
        } else if (::access(pool_ready_mark(store, id).c_str(), F_OK) == 0) {
            e.state = "ready";
        } else {
            e.state = "booting";
        }
        entries.push_back(std::move(e));
    }
    return entries;
}

Result<void> remove_pooled_vm(const std::string& root, const PoolEntry& e) {
    using namespace std::chrono_literals;
    ContainerStore store(root);
    if (e.state == "ready" || e.state == "booting") {
        RUNVM_ASSIGN_OR_RETURN(const bool mine, take_pool_claim(store, e.id));
        if (!mine) {
            return Err(Error::with_errno(EBUSY, "pooled VM " + e.id + " was just taken"));
        }
    }
    if (auto rec = store.load(e.id); rec) {
        if (auto monitor = rec->monitor()) {
            // A booting VM has no control socket yet: its monitor is killed.
            auto asked =
                control_call(store.control_socket(e.id),
                             {{"op", "delete"}, {"force", true}, {"container", e.id}}, 10s);
            if (!asked || !monitor->wait_exit_until(std::chrono::steady_clock::now() + 20s)) {
                (void)monitor->signal(SIGKILL);
                (void)monitor->wait_exit_until(std::chrono::steady_clock::now() + 5s);
            }
        }
    }
    if (store.load(e.id)) { // a monitor that went without removing its state
        RUNVM_TRY(delete_container(root, e.id, true));
    }
    return Ok();
}

std::optional<std::string> claim_pool_vm(const ContainerStore& store, const std::string& key) {
    for (const PoolEntry& e : list_pool(store)) {
        if (e.key != key || e.state != "ready") {
            continue;
        }
        if (auto taken = take_pool_claim(store, e.id); taken && *taken) {
            return e.id;
        }
    }
    return std::nullopt;
}

} // namespace runvm::shim
