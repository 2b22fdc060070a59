// The device table's rows: each device's parse_options and open, behind one signature.
#include "broker/runtime/device_registry.hpp"

#include <linux/if_tun.h>
#include <seccomp.h>
#include <sys/ioctl.h>

#include "broker/devices/blk/device.hpp"
#include "broker/devices/console/device.hpp"
#include "broker/devices/fs/device.hpp"
#include "broker/devices/net/device.hpp"
#include "broker/devices/vsock/device.hpp"

namespace runvm::broker {

namespace {

std::string parent_dir(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

// What each device reaches by path after setup: nothing, unless said here.
template <typename Options>
std::vector<KeptDirectory> kept_directories(const Options&) {
    return {};
}
// Guest-initiated connections dial "<uds>_<port>" files made later by the host.
std::vector<KeptDirectory> kept_directories(const vsock::VsockOptions& o) {
    return {{parent_dir(o.uds_path), false}};
}
std::vector<KeptDirectory> kept_directories(const fs::FsOptions& o) {
    return {{o.shared_dir, o.read_only}};
}

// What each device does under the seccomp filter beyond the broker's list: nothing, unless
// said here.
template <typename Options>
std::vector<SeccompArgEquals> seccomp_rules(const Options&) {
    return {};
}
// A tap that comes later is adopted (tap.cpp) after the filter is in place.
std::vector<SeccompArgEquals> seccomp_rules(const net::NetOptions& o) {
    if (o.tap_socket_fd < 0) {
        return {};
    }
    return {{SCMP_SYS(ioctl), 1, TUNGETIFF},
            {SCMP_SYS(ioctl), 1, TUNSETVNETHDRSZ},
            {SCMP_SYS(ioctl), 1, TUNSETOFFLOAD}};
}

// A row's parse: the device's config parser, with its open as make().
template <auto Parse, auto Open>
Result<PlannedDevice> plan(const DeviceSpec& spec) {
    RUNVM_ASSIGN_OR_RETURN(auto options, Parse(spec));
    PlannedDevice planned{spec.socket, kept_directories(options), seccomp_rules(options), nullptr};
    planned.make = [options]() -> Result<std::unique_ptr<Device>> {
        RUNVM_ASSIGN_OR_RETURN(auto device, Open(options));
        return std::unique_ptr<Device>(std::move(device));
    };
    return planned;
}

const DeviceKind KINDS[] = {
    {"vsock", "<vhost-user sock>,uds=<host socket>,cid=<guest cid>", vsock::SPEC_KEYS, false,
     plan<vsock::parse_options, vsock::VsockDevice::open>},
    {"blk", "<vhost-user sock>,path=<raw image>[,ro][,nodiscard][,serial=<id>]", blk::SPEC_KEYS,
     false, plan<blk::parse_options, blk::BlkDevice::open>},
    {"console", "<vhost-user sock>,log=<file>", console::SPEC_KEYS, false,
     plan<console::parse_options, console::ConsoleDevice::open>},
    {"net",
     "<vhost-user sock>,tap=<name>|fd=<inherited tap fd>|tap_socket=<inherited socket fd>"
     "[,mac=<xx:..>][,mtu=<n>][,nooffload]",
     net::SPEC_KEYS, false, plan<net::parse_options, net::NetDevice::open>},
    {"fs",
     "<vhost-user sock>,dir=<shared dir>,tag=<mount tag>[,cache=none|auto|always][,ro]"
     "[,allow_setid=on|off|<entry>[:<entry>...]][,max_inodes=N][,max_handles=N]",
     fs::SPEC_KEYS, true, plan<fs::parse_options, fs::FsDevice::open>},
};

} // namespace

std::span<const DeviceKind> device_registry() {
    return KINDS;
}

} // namespace runvm::broker
