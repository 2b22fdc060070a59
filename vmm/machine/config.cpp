// MachineConfig from JSON (nlohmann-json), with validation.
#include "vmm/machine/config.hpp"

#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "vmm/arch/x86_64/cpuid.hpp"
#include "vmm/arch/x86_64/mptable.hpp"

namespace runvm::vmm {

namespace {

template <typename T>
Result<void> take(const nlohmann::json& j, const char* key, T& out) {
    auto it = j.find(key);
    if (it == j.end()) {
        return Ok();
    }
    try {
        out = it->get<T>();
    } catch (const nlohmann::json::exception& e) {
        return Err(Error::msg(std::string("config key '") + key + "': " + e.what()));
    }
    return Ok();
}

} // namespace

Result<MachineConfig> decode_machine_config(const std::string& json_text) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json_text);
    } catch (const nlohmann::json::exception& e) {
        return Err(Error::msg(std::string("config: ") + e.what()));
    }
    if (!j.is_object()) {
        return Err(Error::msg("config: top level must be an object"));
    }
    static const std::set<std::string> known = {
        "kernel",           "kernel_format",    "initrd",     "cmdline",        "vcpus",
        "memory_mib",       "devices",          "serial_log", "control_socket", "cpuid_mask",
        "seccomp",          "log_level",        "kvm_device", "acpi",           "restore",
        "restore_state_fd", "restore_memory_fd"};
    for (const auto& [key, value] : j.items()) {
        if (known.count(key) == 0) {
            return Err(Error::msg("config: unknown key '" + key + "'"));
        }
    }
    MachineConfig c;
    RUNVM_TRY(take(j, "kernel", c.kernel));
    RUNVM_TRY(take(j, "kernel_format", c.kernel_format));
    RUNVM_TRY(take(j, "initrd", c.initrd));
    RUNVM_TRY(take(j, "cmdline", c.cmdline));
    RUNVM_TRY(take(j, "vcpus", c.vcpus));
    RUNVM_TRY(take(j, "memory_mib", c.memory_mib));
    RUNVM_TRY(take(j, "serial_log", c.serial_log));
    RUNVM_TRY(take(j, "control_socket", c.control_socket));
    RUNVM_TRY(take(j, "seccomp", c.seccomp));
    RUNVM_TRY(take(j, "log_level", c.log_level));
    RUNVM_TRY(take(j, "kvm_device", c.kvm_device));
    RUNVM_TRY(take(j, "acpi", c.acpi));
    RUNVM_TRY(take(j, "restore", c.restore));
    RUNVM_TRY(take(j, "restore_state_fd", c.restore_state_fd));
    RUNVM_TRY(take(j, "restore_memory_fd", c.restore_memory_fd));
    if (auto it = j.find("cpuid_mask"); it != j.end()) {
        if (it->is_string() && it->get<std::string>() == "kvm_pvm") {
            c.cpuid_mask = x86_64::kvm_pvm_cpuid_mask();
        } else {
            RUNVM_TRY(take(j, "cpuid_mask", c.cpuid_mask));
        }
    }
    if (auto it = j.find("devices"); it != j.end()) {
        if (!it->is_array()) {
            return Err(Error::msg("config key 'devices': must be an array"));
        }
        for (const auto& d : *it) {
            VhostUserDeviceConfig dev;
            if (!d.is_object()) {
                return Err(Error::msg("config key 'devices': entries must be objects"));
            }
            RUNVM_TRY(take(d, "type", dev.type));
            RUNVM_TRY(take(d, "socket", dev.socket));
            c.devices.push_back(dev);
        }
    }
    return c;
}

Result<MachineConfig> parse_machine_config(const std::string& json_text) {
    RUNVM_ASSIGN_OR_RETURN(auto c, decode_machine_config(json_text));
    RUNVM_TRY(validate_machine_config(c));
    return c;
}

Result<void> validate_machine_config(const MachineConfig& c) {
    if (c.kernel.empty() && c.restore.empty()) {
        return Err(Error::msg("config: 'kernel' is required (or 'restore')"));
    }
    if ((c.restore_state_fd >= 0) != (c.restore_memory_fd >= 0) ||
        (c.restore_state_fd >= 0 &&
         (c.restore.empty() || c.restore_state_fd < 3 || c.restore_memory_fd < 3 ||
          c.restore_state_fd == c.restore_memory_fd))) {
        return Err(Error::msg("config 'restore_state_fd', 'restore_memory_fd': " +
                              std::to_string(c.restore_state_fd) + ", " +
                              std::to_string(c.restore_memory_fd) +
                              " (want both or neither, two different inherited fds above 2, "
                              "and 'restore')"));
    }
    static const std::set<std::string> formats = {"auto", "elf", "bzimage", "raw16", "raw64"};
    if (formats.count(c.kernel_format) == 0) {
        return Err(Error::msg("config 'kernel_format': '" + c.kernel_format +
                              "' (want auto, elf, bzimage, raw16 or raw64)"));
    }
    if (c.vcpus == 0 || c.vcpus > x86_64::kMaxVcpus) {
        return Err(Error::msg("config 'vcpus': " + std::to_string(c.vcpus) + " (want 1.." +
                              std::to_string(x86_64::kMaxVcpus) + ")"));
    }
    if (c.memory_mib < 16 || c.memory_mib % 2 != 0 || c.memory_mib > (1u << 20)) {
        return Err(Error::msg("config 'memory_mib': " + std::to_string(c.memory_mib) +
                              " (want an even number from 16 to 1048576)"));
    }
    static const std::set<std::string> types = {"vsock", "blk", "console", "fs", "net"};
    for (const auto& d : c.devices) {
        if (types.count(d.type) == 0 || d.socket.empty()) {
            return Err(Error::msg("config 'devices': type '" + d.type + "' socket '" + d.socket +
                                  "' (want a type of vsock, blk, console, fs, net and a socket)"));
        }
    }
    if (c.devices.size() > 1 + layout::kIrqMax - layout::kVirtioIrqBase) {
        return Err(Error::msg("config 'devices': too many for the IRQ lines"));
    }
    return x86_64::validate_cpuid_mask(c.cpuid_mask);
}

std::string encode_machine_config(const MachineConfig& c) {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& d : c.devices) {
        devices.push_back({{"type", d.type}, {"socket", d.socket}});
    }
    nlohmann::json j = {{"kernel", c.kernel},         {"initrd", c.initrd},
                        {"cmdline", c.cmdline},       {"vcpus", c.vcpus},
                        {"memory_mib", c.memory_mib}, {"serial_log", c.serial_log},
                        {"devices", devices}};
    const MachineConfig defaults;
    if (c.kernel_format != defaults.kernel_format) {
        j["kernel_format"] = c.kernel_format;
    }
    if (c.control_socket != defaults.control_socket) {
        j["control_socket"] = c.control_socket;
    }
    if (c.cpuid_mask != defaults.cpuid_mask) {
        j["cpuid_mask"] = c.cpuid_mask;
    }
    if (c.acpi != defaults.acpi) {
        j["acpi"] = c.acpi;
    }
    if (c.seccomp != defaults.seccomp) {
        j["seccomp"] = c.seccomp;
    }
    if (c.log_level != defaults.log_level) {
        j["log_level"] = c.log_level;
    }
    if (c.kvm_device != defaults.kvm_device) {
        j["kvm_device"] = c.kvm_device;
    }
    if (c.restore != defaults.restore) {
        j["restore"] = c.restore;
    }
    if (c.restore_state_fd != defaults.restore_state_fd) {
        j["restore_state_fd"] = c.restore_state_fd;
    }
    if (c.restore_memory_fd != defaults.restore_memory_fd) {
        j["restore_memory_fd"] = c.restore_memory_fd;
    }
    return j.dump(2);
}

bool virtio_devices_on_cmdline(const MachineConfig& c) {
    if (!c.acpi) {
        return true;
    }
    std::istringstream words(c.cmdline);
    std::string w;
    while (words >> w) {
        if (w == "acpi=off") {
            return true;
        }
    }
    return false;
}

} // namespace runvm::vmm
