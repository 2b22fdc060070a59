// The device table: one row per kind of device runvm-broker serves (its command-line
// option, the keys its spec takes, its config parser and its factory). main() and
// run_broker only walk it; a new device is a folder under broker/devices/ and one row.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "base/seccomp_allow_list.hpp"
#include "broker/devices/device.hpp"
#include "broker/runtime/device_spec.hpp"
#include "broker/runtime/share_namespace.hpp"

namespace runvm::broker {

// A spec after its device's parser: checked, nothing opened yet.
struct PlannedDevice {
    std::string socket;
    // Host directories the device still reaches by path once set up.
    std::vector<KeptDirectory> kept;
    // Syscalls the device still makes under the broker's seccomp filter, each for one
    // argument value (a net device that takes its tap later: the tap's ioctls).
    std::vector<SeccompArgEquals> seccomp_rules;
    // Opens the device (its image, log, tap, host socket or shared directory).
    std::function<Result<std::unique_ptr<Device>>()> make;
};

struct DeviceKind {
    const char* name;  // --<name> on the command line; names the device in errors
    const char* usage; // the option's help text
    std::span<const std::string_view> keys;
    // Serves host files to the guest: made inside the broker's mount namespace (after the
    // pivot), and the broker keeps the file capabilities and syscalls (virtio-fs).
    bool serves_files;
    // The device's config parser, then a PlannedDevice whose make() is its open().
    Result<PlannedDevice> (*parse)(const DeviceSpec& spec);
};

// In the order the devices are set up: vsock, blk, console, net, fs.
std::span<const DeviceKind> device_registry();

} // namespace runvm::broker
