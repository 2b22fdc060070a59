// Parsing and range checks of single configuration values.
#include "shim/config/config_values.hpp"

#include <array>

#include "base/text.hpp"

namespace runvm::config {
namespace {

// Values are echoed in errors; keep them printable and short.
std::string shown(std::string_view text) {
    std::string out = "\"";
    for (const char c : text.substr(0, 64)) {
        out += (c >= 0x20 && c < 0x7f && c != '"') ? c : '?';
    }
    return out + (text.size() > 64 ? "...\"" : "\"");
}

} // namespace

std::string_view hypervisor_name(Hypervisor h) {
    switch (h) {
    case Hypervisor::automatic:
        return "auto";
    case Hypervisor::kvm:
        return "kvm";
    case Hypervisor::qemu:
        return "qemu";
    }
    return "auto";
}

Result<Hypervisor> parse_hypervisor(std::string_view text) {
    if (text == "runvm-vmm") { // the program's name, as docs/cli.md allows
        return Hypervisor::kvm;
    }
    for (const Hypervisor h : {Hypervisor::automatic, Hypervisor::kvm, Hypervisor::qemu}) {
        if (text == hypervisor_name(h)) {
            return h;
        }
    }
    return Err(Error::msg("must be auto, kvm or qemu, got " + shown(text)));
}

std::string_view rootfs_mode_name(RootfsMode m) {
    switch (m) {
    case RootfsMode::automatic:
        return "auto";
    case RootfsMode::block:
        return "block";
    case RootfsMode::virtiofs:
        return "virtiofs";
    }
    return "?";
}

Result<RootfsMode> parse_rootfs_mode(std::string_view text) {
    for (const RootfsMode m : {RootfsMode::automatic, RootfsMode::block, RootfsMode::virtiofs}) {
        if (text == rootfs_mode_name(m)) {
            return m;
        }
    }
    return Err(Error::msg("must be auto, block or virtiofs, got " + shown(text)));
}

std::string_view template_mode_name(TemplateMode m) {
    return m == TemplateMode::automatic ? "auto" : "off";
}

Result<TemplateMode> parse_template_mode(std::string_view text) {
    for (const TemplateMode m : {TemplateMode::automatic, TemplateMode::off}) {
        if (text == template_mode_name(m)) {
            return m;
        }
    }
    return Err(Error::msg("must be auto or off, got " + shown(text)));
}

Result<uint32_t> parse_pool_size(std::string_view text) {
    return parse_integer_in(text, 1, 16);
}

Result<uint32_t> parse_pool_idle_seconds(std::string_view text) {
    return parse_integer_in(text, 10, 86400);
}

RootfsMode resolve_rootfs_mode(RootfsMode mode, uid_t euid) {
    if (mode != RootfsMode::automatic) {
        return mode;
    }
    // virtio-fs starts faster (no image to build, no ext4 to mount in the guest) and keeps
    // runc's semantics (writes land in the bundle's rootfs), but the bind mount into the
    // share needs root.
    return euid == 0 ? RootfsMode::virtiofs : RootfsMode::block;
}

std::string guest_kernel(const RuntimeConfig& config) {
    return config.kernel.empty() ? std::string(kDefaultGuestImageDir) + "/vmlinuz" : config.kernel;
}

std::string guest_initrd(const RuntimeConfig& config) {
    return config.initrd.empty() ? std::string(kDefaultGuestImageDir) + "/initramfs.cpio"
                                 : config.initrd;
}

Result<uint32_t> parse_integer_in(std::string_view text, uint32_t min, uint32_t max) {
    const auto parsed = parse_u64(text);
    const uint64_t value = parsed.value_or(0);
    if (!parsed || value < min || value > max) {
        return Err(Error::msg("must be an integer from " + std::to_string(min) + " to " +
                              std::to_string(max) + ", got " + shown(text)));
    }
    return static_cast<uint32_t>(value);
}

Result<uint32_t> parse_vcpus(std::string_view text) {
    return parse_integer_in(text, kMinVcpus, kMaxVcpus);
}

Result<uint32_t> parse_memory_mib(std::string_view text) {
    return parse_integer_in(text, kMinMemoryMib, kMaxMemoryMib);
}

Result<uint32_t> parse_max_vcpus(std::string_view text) {
    return text == "0" ? Result<uint32_t>(0u) : parse_vcpus(text);
}

Result<uint32_t> parse_max_memory_mib(std::string_view text) {
    return text == "0" ? Result<uint32_t>(0u) : parse_memory_mib(text);
}

Result<uint32_t> parse_overhead_mib(std::string_view text) {
    return parse_integer_in(text, 0, 65536);
}

Result<uint32_t> parse_tb_size_mib(std::string_view text) {
    return parse_integer_in(text, 8, 2048);
}

Result<uint32_t> parse_log_max_kib(std::string_view text) {
    return parse_integer_in(text, 16, 1048576);
}

Result<std::string> parse_absolute_path(std::string_view text) {
    if (text.empty() || text.front() != '/' || text.find('\0') != std::string_view::npos) {
        return Err(Error::msg("must be an absolute path, got " + shown(text)));
    }
    return std::string(text);
}

Result<std::string> parse_log_level(std::string_view text) {
    constexpr std::array<std::string_view, 5> kLevels = {"trace", "debug", "info", "warn", "error"};
    for (const auto level : kLevels) {
        if (text == level) {
            return std::string(text);
        }
    }
    return Err(Error::msg("must be trace, debug, info, warn or error, got " + shown(text)));
}

Result<LogFormat> parse_log_format(std::string_view text) {
    if (text == "text") {
        return LogFormat::text;
    }
    if (text == "json") {
        return LogFormat::json;
    }
    return Err(Error::msg("must be text or json, got " + shown(text)));
}

Result<bool> parse_switch(std::string_view text) {
    if (text == "on") {
        return true;
    }
    if (text == "off") {
        return false;
    }
    return Err(Error::msg("must be on or off, got " + shown(text)));
}

Result<std::string> parse_user_name(std::string_view text) {
    auto allowed = [](char c, bool first) {
        return (c >= 'a' && c <= 'z') || c == '_' ||
               (!first && ((c >= '0' && c <= '9') || c == '-'));
    };
    bool ok = !text.empty() && text.size() <= 32;
    for (size_t i = 0; ok && i < text.size(); ++i) {
        ok = allowed(text[i], i == 0);
    }
    if (!ok) {
        return Err(Error::msg(
            "must be a user name ([a-z_][a-z0-9_-]*, at most 32 characters), got " + shown(text)));
    }
    return std::string(text);
}

Result<IdRange> parse_id_range(std::string_view text) {
    const size_t colon = text.find(':');
    const auto first = parse_u64(text.substr(0, colon));
    const auto count =
        colon == std::string_view::npos ? std::nullopt : parse_u64(text.substr(colon + 1));
    if (!first || !count || *first == 0 || *count == 0 || *first + *count > 4294967295ULL) {
        return Err(Error::msg("must be FIRST:COUNT, ids from 1 to 4294967294, got " + shown(text)));
    }
    return IdRange{static_cast<uint32_t>(*first), static_cast<uint32_t>(*count)};
}

} // namespace runvm::config
