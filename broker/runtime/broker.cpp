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
#include "broker/devices/blk/device.hpp"
#include "broker/devices/console/device.hpp"
#include "broker/devices/fs/device.hpp"
#include "broker/devices/fs/hardening.hpp"
#include "broker/devices/net/device.hpp"
#include "broker/devices/vsock/device.hpp"
#include "broker/hardening/capabilities.hpp"
#include "broker/hardening/seccomp_filter.hpp"
#include "broker/runtime/device_server.hpp"
#include "broker/runtime/device_spec.hpp"
#include "broker/runtime/share_namespace.hpp"

namespace runvm::broker {

namespace {

std::string vsock_uds(const DeviceSpec& spec) {
    return spec.options.count("uds") ? spec.options.at("uds") : spec.socket + ".host";
}

std::string parent_dir(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

Result<std::unique_ptr<Device>> make_vsock(const DeviceSpec& spec) {
    vsock::VsockOptions o;
    o.uds_path = vsock_uds(spec);
    if (spec.options.count("cid")) {
        try {
            o.guest_cid = std::stoull(spec.options.at("cid"));
        } catch (const std::exception&) {
            return Err(Error::with_errno(EINVAL, "vsock cid '" + spec.options.at("cid") + "'"));
        }
    }
    RUNVM_ASSIGN_OR_RETURN(auto dev, vsock::VsockDevice::open(o));
    return std::unique_ptr<Device>(std::move(dev));
}

Result<std::unique_ptr<Device>> make_blk(const DeviceSpec& spec) {
    blk::BlkOptions o;
    if (!spec.options.count("path")) {
        return Err(Error::with_errno(EINVAL, "blk " + spec.socket + ": path= is required"));
    }
    o.path = spec.options.at("path");
    o.read_only = spec.options.count("ro") != 0;
    o.discard = spec.options.count("nodiscard") == 0;
    o.serial = spec.options.count("serial") ? spec.options.at("serial") : "";
    RUNVM_ASSIGN_OR_RETURN(auto dev, blk::BlkDevice::open(o));
    return std::unique_ptr<Device>(std::move(dev));
}

Result<std::unique_ptr<Device>> make_console(const DeviceSpec& spec) {
    if (!spec.options.count("log")) {
        return Err(Error::with_errno(EINVAL, "console " + spec.socket + ": log= is required"));
    }
    RUNVM_ASSIGN_OR_RETURN(auto dev, console::ConsoleDevice::open({spec.options.at("log")}));
    return std::unique_ptr<Device>(std::move(dev));
}

Result<std::unique_ptr<Device>> make_net(const DeviceSpec& spec) {
    net::NetOptions o;
    const bool by_name = spec.options.count("tap") != 0;
    if (by_name == (spec.options.count("fd") != 0)) {
        return Err(Error::with_errno(EINVAL, "net " + spec.socket + ": give tap= or fd="));
    }
    try {
        if (by_name) {
            o.tap_name = spec.options.at("tap");
        } else {
            o.tap_fd = std::stoi(spec.options.at("fd"));
        }
        if (spec.options.count("mtu")) {
            const int mtu = std::stoi(spec.options.at("mtu"));
            if (mtu < 68 || mtu > 65535) {
                throw std::out_of_range("mtu");
            }
            o.mtu = static_cast<uint16_t>(mtu);
        }
    } catch (const std::exception&) {
        return Err(Error::with_errno(EINVAL, "net " + spec.socket + ": bad fd= or mtu="));
    }
    if (spec.options.count("mac")) {
        RUNVM_ASSIGN_OR_RETURN(o.mac, net::parse_mac(spec.options.at("mac")));
    }
    o.offloads = spec.options.count("nooffload") == 0;
    RUNVM_ASSIGN_OR_RETURN(auto dev, net::NetDevice::open(o));
    return std::unique_ptr<Device>(std::move(dev));
}

Result<std::unique_ptr<Device>> make_fs(const DeviceSpec& spec) {
    fs::FsOptions o;
    if (!spec.options.count("dir") || !spec.options.count("tag")) {
        return Err(Error::with_errno(EINVAL, "fs " + spec.socket + ": dir= and tag= are required"));
    }
    o.shared_dir = spec.options.at("dir");
    o.tag = spec.options.at("tag");
    o.read_only = spec.options.count("ro") != 0;
    if (spec.options.count("cache")) {
        RUNVM_ASSIGN_OR_RETURN(o.cache, fs::parse_cache_mode(spec.options.at("cache")));
    }
    RUNVM_ASSIGN_OR_RETURN(auto dev, fs::FsDevice::open(o));
    return std::unique_ptr<Device>(std::move(dev));
}

// The devices, their sockets bound; the fs devices' sockets only: their directories are
// opened once the broker is in its own mount namespace (see open_fs_servers).
struct Setup {
    std::vector<std::unique_ptr<DeviceServer>> servers;
    std::vector<std::pair<DeviceSpec, VhostUserSocket>> fs_pending;
    std::vector<KeptDirectory> kept; // what the devices still reach by path
};

Result<Setup> create_servers(const BrokerOptions& o) {
    Setup setup;
    auto add = [&](const std::string& text, std::initializer_list<const char*> keys,
                   auto make) -> Result<void> {
        RUNVM_ASSIGN_OR_RETURN(DeviceSpec spec, parse_device_spec(text, keys));
        RUNVM_ASSIGN_OR_RETURN(auto device, make(spec));
        RUNVM_ASSIGN_OR_RETURN(auto server, DeviceServer::create(std::move(device), spec.socket));
        setup.servers.push_back(std::move(server));
        return Ok();
    };
    for (const auto& s : o.vsock) {
        RUNVM_TRY(add(s, {"uds", "cid"}, make_vsock));
        // Guest-initiated connections dial "<uds>_<port>" files made later by the host.
        RUNVM_ASSIGN_OR_RETURN(DeviceSpec spec, parse_device_spec(s, {"uds", "cid"}));
        setup.kept.push_back({parent_dir(vsock_uds(spec)), false});
    }
    for (const auto& s : o.blk) {
        RUNVM_TRY(add(s, {"path", "ro", "nodiscard", "serial"}, make_blk));
    }
    for (const auto& s : o.console) {
        RUNVM_TRY(add(s, {"log"}, make_console));
    }
    for (const auto& s : o.net) {
        RUNVM_TRY(add(s, {"tap", "fd", "mac", "mtu", "nooffload"}, make_net));
    }
    for (const auto& s : o.fs) {
        RUNVM_ASSIGN_OR_RETURN(DeviceSpec spec,
                               parse_device_spec(s, {"dir", "tag", "cache", "ro"}));
        if (!spec.options.count("dir") || !spec.options.count("tag")) {
            return Err(
                Error::with_errno(EINVAL, "fs " + spec.socket + ": dir= and tag= are required"));
        }
        setup.kept.push_back({spec.options.at("dir"), spec.options.count("ro") != 0});
        RUNVM_ASSIGN_OR_RETURN(VhostUserSocket socket, VhostUserSocket::listen(spec.socket));
        setup.fs_pending.emplace_back(std::move(spec), std::move(socket));
    }
    if (setup.servers.empty() && setup.fs_pending.empty()) {
        return Err(Error::with_errno(EINVAL, "no devices given"));
    }
    return setup;
}

// The fs devices open their shared directory (and /proc/self/fd) here, after the pivot:
// an fd opened before would hold the host's mount, whose submounts (the bind mounts a
// share directory is made of) the lazy unmount of the old root disconnects from it.
Result<void> open_fs_servers(Setup& setup) {
    for (auto& [spec, socket] : setup.fs_pending) {
        RUNVM_ASSIGN_OR_RETURN(auto device, make_fs(spec));
        RUNVM_ASSIGN_OR_RETURN(auto server,
                               DeviceServer::create(std::move(device), std::move(socket)));
        setup.servers.push_back(std::move(server));
    }
    setup.fs_pending.clear();
    return Ok();
}

// Only a broker serving files gets its own root: the others reach nothing by path.
Result<void> confine_mounts(const Setup& setup) {
    if (setup.fs_pending.empty()) {
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
        if (auto confined = confine_mounts(*setup); !confined) {
            spdlog::error("setup: {}", confined.error().str());
            return EXIT_SETUP;
        }
    }
    if (auto opened = open_fs_servers(*setup); !opened) {
        spdlog::error("setup: {}", opened.error().str());
        return EXIT_SETUP;
    }
    auto* servers = &setup->servers;
    if (options.harden) {
        // virtio-fs acts on files for the guest: it keeps the file capabilities only
        // (CAP_SYS_ADMIN, needed for the namespace above, goes here).
        auto dropped =
            options.fs.empty() ? drop_all_capabilities() : fs::keep_only_fs_capabilities();
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
        auto filtered = install_seccomp_filter(options.fs.empty()
                                                   ? std::span<const int>()
                                                   : std::span<const int>(fs::fs_extra_syscalls()));
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
