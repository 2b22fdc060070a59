// runvm template: the booted VMs containers start in instead of booting their own (issue
// #23). On QEMU a template is a pool of VMs booted to "agent ready" (vm_pool.hpp,
// docs/design/fast-start.md): `build` boots them up to pool_size, `list` shows them, `rm`
// shuts down those no container has taken. On runvm-vmm each pooled VM is restored from a
// saved template when there is one (shim/sandbox/vm_template.hpp); list and rm cover those too.
#include <cstdio>
#include <iostream>
#include <memory>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/fnv1a.hpp"
#include "base/secure_dir.hpp"
#include "shim/cli/verb.hpp"
#include "shim/container/container_ops.hpp"
#include "shim/container/control_channel.hpp"
#include "shim/container/vm_pool.hpp"
#include "shim/sandbox/runtime_settings.hpp"
#include "shim/sandbox/vm_dirs.hpp"
#include "shim/sandbox/vm_template.hpp"

namespace runvm::cli {

namespace {

using namespace std::chrono_literals;

struct TemplateArgs {
    bool refill = false;
    std::string format = "table";
};

// One build at a time per root: two creates that both found the pool short boot one VM.
// The lock file is beside the VMs' run directories, not in --root, whose directory holds
// only containers (containerd's shim checks that it is empty once they are gone), and it is
// unlinked by its holder, so none stays behind: a waiter that locked a file no longer at the
// path starts again.
class PoolLock {
public:
    static Result<PoolLock> take(const std::string& root) {
        RUNVM_TRY(open_owned_dir(shim::vm_base_dir(), 0711));
        char name[32];
        std::snprintf(name, sizeof name, "/pool-%016llx.lock",
                      static_cast<unsigned long long>(fnv1a64(root)));
        PoolLock lock;
        lock.path_ = shim::vm_base_dir() + name;
        for (;;) {
            lock.fd_ = UniqueFd(
                ::open(lock.path_.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!lock.fd_) {
                return Err(Error::from_errno("open " + lock.path_));
            }
            // A POSIX record lock, not flock: the monitors this process forks must not
            // inherit it (a flock is the open file's; they would hold it for their VM's life).
            struct flock whole {};
            whole.l_type = F_WRLCK;
            whole.l_whence = SEEK_SET;
            while (::fcntl(lock.fd_.get(), F_SETLKW, &whole) != 0) {
                if (errno != EINTR) {
                    return Err(Error::from_errno("lock " + lock.path_));
                }
            }
            struct stat held {};
            struct stat named {};
            if (::fstat(lock.fd_.get(), &held) == 0 && ::stat(lock.path_.c_str(), &named) == 0 &&
                held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
                return lock;
            }
        }
    }
    PoolLock(PoolLock&&) = default;
    ~PoolLock() {
        if (fd_) {
            ::unlink(path_.c_str()); // while held; the lock goes with the fd
        }
    }

private:
    PoolLock() = default;
    std::string path_;
    UniqueFd fd_;
};

int build(const GlobalOptions& g, bool quiet_when_off = false);

// --refill, as a create starts it: the work goes on in a child that init (or the caller's
// subreaper) inherits, and this process exits at once, so the create reaps it right away.
int build_detached(const GlobalOptions& g) {
    auto child = ChildProcess::fork_child("pool refill", [&] {
        ::setsid();
        return build(g, true);
    });
    if (!child) {
        return fail(child.error().str());
    }
    (void)child->release();
    return 0;
}

int build(const GlobalOptions& g, bool quiet_when_off) {
    auto settings = shim::load_settings();
    if (!settings) {
        return fail(settings.error().str());
    }
    if (settings->template_mode == config::TemplateMode::off) {
        return quiet_when_off ? 0
                              : fail("template: off: no container would take a pooled VM (set "
                                     "template: auto in config.yaml, or RUNVM_TEMPLATE=auto)");
    }
    if (::geteuid() != 0 || config::resolve_rootfs_mode(settings->rootfs, ::geteuid()) !=
                                config::RootfsMode::virtiofs) {
        return fail("template build: a pooled VM takes its container's rootfs through its "
                    "virtio-fs share, which needs root and rootfs: auto or virtiofs");
    }
    const std::string key = shim::pool_key(*settings);
    auto lock = PoolLock::take(g.root);
    if (!lock) {
        return fail(lock.error().str());
    }
    uint32_t have = 0;
    for (const auto& e : shim::list_pool(shim::ContainerStore(g.root))) {
        if (e.state == "stopped") {
            (void)shim::remove_pooled_vm(g.root, e);
        } else if (e.key == key && (e.state == "ready" || e.state == "booting")) {
            ++have;
        }
    }
    for (; have < settings->pool_size; ++have) {
        shim::MonitorOptions o;
        o.root = g.root;
        o.id = shim::new_pool_vm_id(key);
        o.settings = *settings;
        o.pool_key = key;
        if (auto pid = shim::create_container(o); !pid) {
            return fail("template build: " + pid.error().str());
        }
        std::printf("%s ready\n", o.id.c_str());
    }
    return 0;
}

// runvm-vmm's saved templates (vm_template.hpp) are listed after the pool, as state "saved".
int list(const GlobalOptions& g, const TemplateArgs& a) {
    const auto entries = shim::list_pool(shim::ContainerStore(g.root));
    auto settings = shim::load_settings();
    const auto saved = settings ? shim::list_vm_templates(settings->template_dir)
                                : std::vector<shim::VmTemplateInfo>{};
    if (a.format == "json") {
        nlohmann::json all = nlohmann::json::array();
        for (const auto& e : entries) {
            all.push_back({{"id", e.id},
                           {"key", e.key},
                           {"state", e.state},
                           {"pid", e.monitor_pid},
                           {"created", e.created}});
        }
        for (const auto& t : saved) {
            all.push_back({{"id", settings->template_dir + "/" + t.key},
                           {"key", t.key},
                           {"state", "saved"},
                           {"disk_bytes", t.disk_bytes},
                           {"memory_bytes", t.memory_bytes}});
        }
        std::cout << all.dump() << "\n";
        return 0;
    }
    std::printf("%-40s %-8s %-8s %-32s %s\n", "ID", "STATE", "PID", "CREATED", "KEY");
    for (const auto& e : entries) {
        std::printf("%-40s %-8s %-8d %-32s %s\n", e.id.c_str(), e.state.c_str(), e.monitor_pid,
                    e.created.c_str(), e.key.c_str());
    }
    for (const auto& t : saved) {
        std::printf("%-40s %-8s %llu MiB on disk, %llu MiB of guest RAM\n",
                    (settings->template_dir + "/" + t.key).c_str(), "saved",
                    static_cast<unsigned long long>(t.disk_bytes >> 20),
                    static_cast<unsigned long long>(t.memory_bytes >> 20));
    }
    return 0;
}

int remove(const GlobalOptions& g) {
    auto lock = PoolLock::take(g.root);
    if (!lock) {
        return fail(lock.error().str());
    }
    int status = 0;
    for (const auto& e : shim::list_pool(shim::ContainerStore(g.root))) {
        if (e.state == "claimed") {
            continue; // a container's VM now: it ends with its container
        }
        if (auto r = shim::remove_pooled_vm(g.root, e); !r) {
            status = fail(r.error().str());
        } else {
            std::printf("%s removed\n", e.id.c_str());
        }
    }
    if (auto settings = shim::load_settings()) {
        for (const auto& t : shim::list_vm_templates(settings->template_dir)) {
            std::printf("%s/%s removed\n", settings->template_dir.c_str(), t.key.c_str());
        }
        shim::remove_vm_templates(settings->template_dir);
    }
    return status;
}

} // namespace

Runner setup_template(CLI::App& sub, const GlobalOptions& g) {
    auto a = std::make_shared<TemplateArgs>();
    sub.require_subcommand(1);
    auto* b = sub.add_subcommand("build", "boot pooled VMs for this configuration up to pool_size");
    b->add_flag("--refill", a->refill, "as a create runs it: nothing to do with template: off");
    auto* l = sub.add_subcommand("list", "list pooled VMs: ready, booting, or taken (claimed)");
    l->add_option("-f,--format", a->format, "table or json")
        ->check(CLI::IsMember({"table", "json"}));
    sub.add_subcommand("rm", "shut down every pooled VM no container has taken, and remove the "
                             "saved runvm-vmm templates");
    return [a, &g, &sub] {
        if (sub.got_subcommand("build")) {
            return a->refill ? build_detached(g) : build(g);
        }
        if (sub.got_subcommand("list")) {
            return list(g, *a);
        }
        return remove(g);
    };
}

} // namespace runvm::cli
