// Value rules shared by config.yaml keys and io.runvm.* annotations; errors state the rule only,
// the caller names the key or annotation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "shim/config/runtime_config.hpp"

namespace runvm::config {

inline constexpr uint32_t kMinVcpus = 1;
inline constexpr uint32_t kMaxVcpus = 255;
inline constexpr uint32_t kMinMemoryMib = 64;
inline constexpr uint32_t kMaxMemoryMib = 1048576;

Result<Hypervisor> parse_hypervisor(std::string_view text);
Result<RootfsMode> parse_rootfs_mode(std::string_view text);
Result<TemplateMode> parse_template_mode(std::string_view text);
// pool_size 1 to 16; pool_idle_seconds 10 to 86400 (a day).
Result<uint32_t> parse_pool_size(std::string_view text);
Result<uint32_t> parse_pool_idle_seconds(std::string_view text);
Result<uint32_t> parse_integer_in(std::string_view text, uint32_t min, uint32_t max);
Result<uint32_t> parse_vcpus(std::string_view text);
Result<uint32_t> parse_memory_mib(std::string_view text);
// 0 (none) or a value parse_vcpus / parse_memory_mib takes.
Result<uint32_t> parse_max_vcpus(std::string_view text);
Result<uint32_t> parse_max_memory_mib(std::string_view text);
// MiB: vm_overhead_mib 0 to 65536, tcg_tb_size_mib 8 to 2048.
Result<uint32_t> parse_overhead_mib(std::string_view text);
Result<uint32_t> parse_tb_size_mib(std::string_view text);
// KiB: log_max_kib 16 to 1048576 (1 GiB).
Result<uint32_t> parse_log_max_kib(std::string_view text);
Result<std::string> parse_absolute_path(std::string_view text);
Result<std::string> parse_log_level(std::string_view text);
Result<LogFormat> parse_log_format(std::string_view text);
Result<bool> parse_switch(std::string_view text); // on or off
// A login name as useradd takes it: [a-z_][a-z0-9_-]*, at most 32 characters.
Result<std::string> parse_user_name(std::string_view text);
// FIRST:COUNT, ids other than root's and the kernel's invalid id (4294967295).
Result<IdRange> parse_id_range(std::string_view text);

} // namespace runvm::config
