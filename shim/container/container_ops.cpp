// create/state/start/kill/delete: the monitor is forked, asked over its control socket, or
// (once it is gone) the record alone answers.
#include "shim/container/container_ops.hpp"

#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child_process.hpp"
#include "base/io.hpp"
#include "oci/hooks_runner.hpp"
#include "oci/spec_json.hpp"
#include "shim/container/container_store.hpp"
#include "shim/container/control_channel.hpp"
#include "shim/container/host_cgroup.hpp"
#include "shim/container/monitor.hpp"
#include "shim/container/pod.hpp"
#include "shim/container/vm_pool.hpp"
#include "shim/sandbox/host_shares.hpp"
#include "shim/sandbox/sandbox_network.hpp"

namespace runvm::shim {

using nlohmann::json;
using namespace std::chrono_literals;

bool process_alive(int pid) {
    if (pid <= 0) {
        return false;
    }
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) {
        return false;
    }
    // "pid (comm) S ...": the state follows the last ')'.
    const auto close = stat->rfind(')');
    return close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] != 'Z';
}

Result<void> claim_container_id(const std::string& root, const std::string& id) {
    return ContainerStore(root).create_dir(id);
}

Result<pid_t> create_container(const MonitorOptions& options) {
    // The id first: a create that loses the race for it touches nothing of the winner's.
    RUNVM_TRY(claim_container_id(options.root, options.id));
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
        Error e = Error::from_errno("pipe for monitor");
        (void)ContainerStore(options.root).remove(options.id);
        return Err(std::move(e));
    }
    UniqueFd rd(p[0]);
    UniqueFd wr(p[1]);
    spdlog::default_logger()->flush();
    auto forked = ChildProcess::fork_child("monitor", [&] {
        rd.reset();
        ::setsid();
        MonitorOptions o = options;
        o.ready_fd = wr.release();
        return run_monitor(o);
    });
    if (!forked) {
        (void)ContainerStore(options.root).remove(options.id);
        return Err(std::move(forked).error());
    }
    ChildProcess monitor = std::move(*forked);
    wr.reset();
    // The boot deadline bounds the monitor's answer; the slack covers image and teardown.
    const auto limit = options.settings.boot_timeout + 60s;
    std::string reply;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        pollfd pf{rd.get(), POLLIN, 0};
        const int r = ::poll(&pf, 1, static_cast<int>(std::max<long>(left, 0)));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            monitor.kill_and_reap();
            return Err(Error::with_errno(ETIMEDOUT, "container monitor did not report"));
        }
        char buf[4096];
        const ssize_t n = ::read(rd.get(), buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        reply.append(buf, static_cast<size_t>(n));
    }
    if (reply == "ok\n") {
        // The monitor outlives `runvm create`: it is the container's.
        return monitor.release();
    }
    // The monitor exits on failure, tearing down as it goes: reap it if it is done already,
    // never kill it (it is our child until we exit).
    (void)monitor.wait_until(std::chrono::steady_clock::now());
    (void)monitor.release();
    if (reply.rfind("error ", 0) == 0) {
        reply = reply.substr(6);
        while (!reply.empty() && reply.back() == '\n') {
            reply.pop_back();
        }
        return Err(Error::msg(reply));
    }
    // It died before it wrote a record: the claimed id must not stay taken by an empty
    // directory that no verb can see.
    ContainerStore store(options.root);
    if (auto rec = store.load(options.id); !rec && rec.error().code() == ENOENT) {
        (void)store.remove(options.id);
    }
    return Err(Error::msg("container monitor exited without reporting"));
}

std::string control_socket_of(const ContainerStore& store, const ContainerRecord& record) {
    return store.control_socket(record.pod_sandbox.empty() ? record.id : record.pod_sandbox);
}

Result<std::string> control_socket_of(const std::string& root, const std::string& id) {
    ContainerStore store(root);
    RUNVM_ASSIGN_OR_RETURN(ContainerRecord rec, store.load(id));
    return control_socket_of(store, rec);
}

Result<json> monitor_request(const std::string& root, const std::string& id, const json& request) {
    ContainerStore store(root);
    RUNVM_ASSIGN_OR_RETURN(ContainerRecord rec, store.load(id));
    if (effective_status(rec) == "stopped" || !rec.monitor()) {
        return Err(Error::with_errno(ESRCH, "container " + id + " is not running"));
    }
    json routed = request;
    routed["container"] = id;
    return control_call(control_socket_of(store, rec), routed, 60s);
}

Result<json> container_state(const std::string& root, const std::string& id) {
    ContainerStore store(root);
    RUNVM_ASSIGN_OR_RETURN(ContainerRecord rec, store.load(id));
    std::string status = effective_status(rec);
    if (status != "stopped" && !rec.monitor()) {
        status = "stopped";
    }
    json j = {{"ociVersion", "1.0.2"},
              {"id", rec.id},
              {"pid", status == "stopped" ? 0 : rec.monitor_pid},
              {"status", status},
              {"bundle", rec.bundle},
              {"rootfs", rec.rootfs},
              {"created", rec.created},
              {"owner", ""}};
    if (!rec.annotations.empty()) {
        j["annotations"] = rec.annotations;
    }
    // The VM it runs in: its own, or its pod's, or the pooled VM it took (vm_pool.hpp).
    json runvm = {{"vm", rec.pod_sandbox.empty() ? rec.id : rec.pod_sandbox},
                  {"hypervisor", rec.hypervisor},
                  {"guest_kernel", rec.guest_kernel},
                  {"boot_timeline", rec.timeline}};
    if (rec.exit_status) {
        runvm["exit_status"] = *rec.exit_status;
    }
    if (!rec.error.empty()) {
        runvm["error"] = rec.error;
    }
    j["runvm"] = runvm;
    return j;
}

Result<void> start_container(const std::string& root, const std::string& id) {
    RUNVM_TRY(monitor_request(root, id, {{"op", "start"}}));
    return Ok();
}

Result<void> kill_container(const std::string& root, const std::string& id, int signal, bool all) {
    RUNVM_TRY(monitor_request(root, id, {{"op", "kill"}, {"signal", signal}, {"all", all}}));
    return Ok();
}

Result<void> delete_container(const std::string& root, const std::string& id, bool force) {
    ContainerStore store(root);
    RUNVM_TRY(store.load(id)); // "container x does not exist" before any lock file appears
    RUNVM_ASSIGN_OR_RETURN(UniqueFd lock, store.lock(id));
    RUNVM_ASSIGN_OR_RETURN(ContainerRecord rec, store.load(id));
    // Signals reach the recorded monitor or nobody: not a later process with its pid.
    auto monitor = rec.monitor();
    if (monitor && effective_status(rec) != "stopped") {
        auto asked = control_call(control_socket_of(store, rec),
                                  {{"op", "delete"}, {"force", force}, {"container", id}}, 30s);
        if (!asked && !force) {
            return Err(std::move(asked).error());
        }
        if (!asked && rec.pod_sandbox.empty() && rec.monitor_pid != ::getpid()) {
            // A monitor that cannot be asked still goes: its broker and hypervisor die with
            // it (PR_SET_PDEATHSIG), what it left on disk is removed below.
            spdlog::warn("delete --force {}: {}; killing its monitor", id, asked.error().str());
            (void)monitor->signal(SIGKILL);
        }
    } else if (!rec.pod_sandbox.empty()) {
        // A member whose process was killed: its pod may still hold its mounts. Usually it
        // has let go already and answers that it does not know the container.
        (void)control_call(control_socket_of(store, rec),
                           {{"op", "delete"}, {"force", true}, {"container", id}}, 30s);
    }
    // The monitor tears the VM down and exits; wait (bounded) so nothing is left running.
    // `runvm run` is its own monitor (already torn down by then): it must not wait for itself.
    if (monitor && rec.monitor_pid != ::getpid() &&
        !monitor->wait_exit_until(std::chrono::steady_clock::now() + 20s)) {
        (void)monitor->signal(SIGKILL);
    }
    // A killed monitor left its VM directory: the virtio-fs share's mounts, sockets, logs,
    // the rootfs image, and the jail's directory with what its jailed processes made there
    // (a broker hung when its monitor went never unlinked its sockets). Unmounted first;
    // only files and empty directories are removed.
    const std::string vm_dir = store.run_dir(id); // never a path read back from the state
    for (const std::string& dir : {vm_dir + "/shared", vm_dir + "/jail", vm_dir}) {
        if (auto r = release_host_shares(dir); !r) {
            spdlog::warn("delete {}: {}", id, r.error().str());
            break;
        }
    }
    // A killed monitor left its host cgroup (its VM's processes went with it).
    remove_cgroup_dirs(rec.host_cgroups);
    auto spec = oci::load_spec(rec.bundle + "/config.json");
    // A monitor that died (killed, crashed) left the tc qdiscs on the namespace's interfaces
    // (its taps went with the broker); after a clean teardown this finds nothing.
    // A pod member's namespace is its pod's: the sandbox container plumbed it and cleans it.
    // A pooled VM's container plumbed its own (and a CRI pod's sandbox in one, its pod's).
    const bool plumbed_own =
        rec.pod_sandbox.empty() || (is_pool_vm_id(rec.pod_sandbox) &&
                                    pod_placement(id, rec.annotations).role != PodRole::member);
    if (auto netns = spec ? network_namespace_path(*spec) : std::nullopt;
        netns && rec.monitor_pid != ::getpid() && plumbed_own) {
        if (auto r = cleanup_network_namespace(*netns); !r) {
            spdlog::warn("container {}: network cleanup: {}", id, r.error().str());
        }
    }
    // poststop hooks: after the container is deleted, before delete returns; failures are
    // logged (runtime-spec).
    if (spec && spec->hooks) {
        json state = {{"ociVersion", spec->oci_version},
                      {"id", id},
                      {"status", "stopped"},
                      {"pid", 0},
                      {"bundle", rec.bundle}};
        if (auto r = oci::run_hooks(spec->hooks->poststop, "poststop", state.dump()); !r) {
            spdlog::warn("{}", r.error().str());
        }
    }
    return store.remove(id);
}

Result<int> parse_signal(const std::string& text) {
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
        const int n = std::atoi(text.c_str());
        if (n > 0 && n < 65) {
            return n;
        }
        return Err(Error::with_errno(EINVAL, "signal " + text + " out of range"));
    }
    std::string name = text;
    for (auto& c : name) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (name.rfind("SIG", 0) == 0) {
        name = name.substr(3);
    }
    for (int sig = 1; sig < 32; ++sig) {
        const char* abbrev = ::sigabbrev_np(sig);
        if (abbrev && name == abbrev) {
            return sig;
        }
    }
    return Err(Error::with_errno(EINVAL, "unknown signal '" + text + "'"));
}

} // namespace runvm::shim
