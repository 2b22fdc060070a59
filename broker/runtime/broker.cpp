// run_broker: setup in order (devices, capabilities, threads, seccomp), then wait.
#include "broker/runtime/broker.hpp"

#include <csignal>
#include <memory>
#include <span>

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "base/unique_fd.hpp"
#include "broker/devices/fs/hardening.hpp"
#include "broker/hardening/capabilities.hpp"
#include "broker/hardening/seccomp_filter.hpp"
#include "broker/runtime/device_registry.hpp"
#include "broker/runtime/device_server.hpp"
#include "broker/runtime/share_namespace.hpp"

namespace runvm::broker {

namespace {

// The devices, their sockets bound; those serving files by their sockets only: they are
// made once the broker is in its own mount namespace (see open_file_servers).
struct Setup {
    std::vector<std::unique_ptr<DeviceServer>> servers;
    std::vector<std::pair<PlannedDevice, VhostUserSocket>> file_servers;
    std::vector<KeptDirectory> kept; // what the devices still reach by path
    std::vector<SeccompArgEquals> seccomp_rules;
};

Result<Setup> create_servers(const BrokerOptions& o) {
    Setup setup;
    for (const DeviceKind& kind : device_registry()) {
        const auto given = o.devices.find(kind.name);
        if (given == o.devices.end()) {
            continue;
        }
        for (const std::string& text : given->second) {
            RUNVM_ASSIGN_OR_RETURN(DeviceSpec spec, parse_device_spec(text, kind.keys));
            RUNVM_ASSIGN_OR_RETURN(PlannedDevice planned, kind.parse(spec));
            setup.kept.insert(setup.kept.end(), planned.kept.begin(), planned.kept.end());
            setup.seccomp_rules.insert(setup.seccomp_rules.end(), planned.seccomp_rules.begin(),
                                       planned.seccomp_rules.end());
            if (kind.serves_files) {
                RUNVM_ASSIGN_OR_RETURN(VhostUserSocket socket,
                                       VhostUserSocket::listen(planned.socket));
                setup.file_servers.emplace_back(std::move(planned), std::move(socket));
                continue;
            }
            RUNVM_ASSIGN_OR_RETURN(auto device, planned.make());
            RUNVM_ASSIGN_OR_RETURN(auto server,
                                   DeviceServer::create(std::move(device), planned.socket));
            setup.servers.push_back(std::move(server));
        }
    }
    if (setup.servers.empty() && setup.file_servers.empty()) {
        return Err(Error::with_errno(EINVAL, "no devices given"));
    }
    return setup;
}

// The fs devices open their shared directory (and /proc/self/fd) here, after the pivot:
// an fd opened before would hold the host's mount, whose submounts (the bind mounts a
// share directory is made of) the lazy unmount of the old root disconnects from it.
Result<void> open_file_servers(Setup& setup) {
    for (auto& [planned, socket] : setup.file_servers) {
        RUNVM_ASSIGN_OR_RETURN(auto device, planned.make());
        RUNVM_ASSIGN_OR_RETURN(auto server,
                               DeviceServer::create(std::move(device), std::move(socket)));
        setup.servers.push_back(std::move(server));
    }
    setup.file_servers.clear();
    return Ok();
}

// Only a broker serving files gets its own root: the others reach nothing by path.
Result<void> confine_mounts(const Setup& setup, bool jailed) {
    if (setup.file_servers.empty()) {
        return Ok();
    }
    if (jailed) {
        spdlog::debug("in runvm-jail's mount namespace: no namespace of its own");
        return Ok();
    }
    auto entered = enter_share_namespace(setup.kept);
    if (!entered && entered.error().code() == EPERM) {
        spdlog::warn("no mount namespace of the shared directories ({}): the broker runs "
                     "without CAP_SYS_ADMIN",
                     entered.error().str());
        return Ok();
    }
    return entered;
}

} // namespace

int run_broker(const BrokerOptions& options) {
    // Parent death ends the broker like SIGTERM does. The parent may already be gone
    // between fork and this call: compare with the pid recorded before.
    const pid_t parent = ::getppid();
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGHUP);
    // Blocked before any thread starts, so only the signalfd below sees them.
    ::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    UniqueFd signals(::signalfd(-1, &stop_signals, SFD_CLOEXEC));
    if (!signals) {
        spdlog::error("signalfd: {}", std::strerror(errno));
        return EXIT_SETUP;
    }

    auto setup = create_servers(options);
    if (!setup) {
        spdlog::error("setup: {}", setup.error().str());
        return EXIT_SETUP;
    }
    if (options.harden) {
        if (auto confined = confine_mounts(*setup, options.jailed); !confined) {
            spdlog::error("setup: {}", confined.error().str());
            return EXIT_SETUP;
        }
    }
    // Read before open_file_servers empties the list.
    const bool serves_files = !setup->file_servers.empty();
    if (auto opened = open_file_servers(*setup); !opened) {
        spdlog::error("setup: {}", opened.error().str());
        return EXIT_SETUP;
    }
    auto* servers = &setup->servers;
    if (options.harden) {
        // virtio-fs acts on files for the guest: it keeps the file capabilities only
        // (CAP_SYS_ADMIN, needed for the namespace above, goes here). Jailed, these are
        // capabilities in the jail's user namespace: over the files of the idmapped shares.
        auto dropped = serves_files ? fs::keep_only_fs_capabilities() : drop_all_capabilities();
        if (!dropped) {
            spdlog::error("setup: {}", dropped.error().str());
            return EXIT_SETUP;
        }
    }
    for (auto& s : *servers) {
        auto started = s->start();
        if (!started) {
            spdlog::error("setup: {}", started.error().str());
            return EXIT_SETUP;
        }
    }
    if (options.harden) {
        auto filtered = install_seccomp_filter(
            serves_files ? std::span<const int>(fs::fs_extra_syscalls()) : std::span<const int>(),
            setup->seccomp_rules);
        if (!filtered) {
            spdlog::error("setup: {}", filtered.error().str());
            return EXIT_SETUP;
        }
    }
    spdlog::info("serving {} devices", servers->size());

    int code = EXIT_CLEAN;
    for (;;) {
        pollfd p{signals.get(), POLLIN, 0};
        const int rc = ::poll(&p, 1, 1000);
        if (rc < 0 && errno != EINTR) {
            spdlog::error("poll signalfd: {}", std::strerror(errno));
            code = EXIT_RUNTIME;
            break;
        }
        if (rc > 0) {
            signalfd_siginfo info{};
            if (::read(signals.get(), &info, sizeof(info)) == sizeof(info)) {
                spdlog::info("signal {}: stopping", info.ssi_signo);
            }
            break;
        }
        if (::getppid() != parent) {
            spdlog::info("parent {} is gone: stopping", parent);
            break;
        }
    }
    for (auto& s : *servers) {
        s->stop();
    }
    servers->clear(); // destructors remove the socket files
    return code;
}

} // namespace runvm::broker
