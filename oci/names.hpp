// Names the runtime-spec uses for kernel constants: capabilities, rlimits, namespaces, seccomp.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace runvm::oci {

// CAP_CHOWN -> 0 ... CAP_CHECKPOINT_RESTORE -> 40 (linux/capability.h, Linux 5.9+).
std::optional<int> capability_number(std::string_view name);

// Every capability name we know, in capability-number order.
std::span<const std::string_view> capability_names();

// RLIMIT_NOFILE -> RLIMIT_NOFILE's value from <sys/resource.h>.
std::optional<int> rlimit_resource(std::string_view name);

// CLONE_NEWPID and friends for "pid", "network", "mount", "ipc", "uts", "user", "cgroup",
// "time".
std::optional<int> namespace_clone_flag(std::string_view type);

bool is_seccomp_action(std::string_view name);       // SCMP_ACT_*
bool is_seccomp_architecture(std::string_view name); // SCMP_ARCH_*
bool is_seccomp_flag(std::string_view name);         // SECCOMP_FILTER_FLAG_*
bool is_seccomp_operator(std::string_view name);     // SCMP_CMP_*

// shared, rslave, ... : mount propagation for the rootfs.
bool is_rootfs_propagation(std::string_view name);

} // namespace runvm::oci
