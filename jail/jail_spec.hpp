// JailSpec: what runvm-jail is asked to do, as its command line says it; the shim builds that
// command line from the same type (jail_argv), so one parser reads what one writer wrote.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace runvm::jail {

// Which default-deny allow-list goes on last (seccomp_profile.hpp).
enum class SeccompProfile { none, qemu, vmm, broker };

std::string_view seccomp_profile_name(SeccompProfile p); // "none", "qemu", "vmm", "broker"

// A path bound at the same path inside the jail.
struct BindSpec {
    std::string path;
    bool readonly = false;
    bool operator==(const BindSpec&) const = default;
};

struct JailSpec {
    std::string root; // an existing empty directory the jail's tmpfs is mounted on
    std::string user; // the account the program runs as
    // The ids it runs as instead of `user`'s own: the VM's own pair, leased by the shim, so that
    // no two VMs' processes share a uid (docs/security.md, "One uid per VM"). `user` still names
    // the subordinate ranges of --userns.
    std::optional<std::pair<uint32_t, uint32_t>> ids;
    bool userns = false;
    // With userns: every id maps to itself instead of 0 -> the user, 1.. -> its subordinate
    // ids, and the --idmap-bind trees are bound without an idmapping. For trees that cannot be
    // idmapped (overlayfs): the program is host root on files, with no host capabilities.
    bool userns_host_ids = false;
    // With userns: the capabilities of its user namespace the program keeps (libcap's names:
    // chown, dac_override...); every other leaves every set. Under userns_host_ids the program
    // is not that namespace's root but its own uid, and keeps them as ambient capabilities.
    std::vector<std::string> keep_caps;
    std::vector<std::string> group_add; // supplementary groups by name (kvm)
    std::vector<BindSpec> binds;
    std::vector<std::string> idmap_binds;
    std::vector<std::string> devices; // names under /dev: null, kvm, ...
    // Inherited fds the program gets (tap fds, handed files); every other fd above 2 is
    // closed at the exec, so nothing the caller inherited by accident crosses into the jail.
    std::vector<int> keep_fds;
    bool proc = false;
    SeccompProfile seccomp = SeccompProfile::none;
    std::vector<std::string> program; // argv; program[0] an absolute path
    bool operator==(const JailSpec&) const = default;
};

// Parses `args` (argv without argv[0]). An error names the option and the rule it breaks.
Result<JailSpec> parse_jail_args(std::span<const std::string> args);

// The command line that parse_jail_args reads back as `spec`, starting with `jailer`.
std::vector<std::string> jail_argv(const std::string& jailer, const JailSpec& spec);

inline constexpr std::string_view kJailUsage =
    "usage: runvm-jail --root DIR --user NAME [--ids UID:GID]\n"
    "                  [--userns [--userns-host-ids] [--keep-cap NAME]...] [--group-add "
    "GROUP]...\n"
    "                  [--bind PATH[:ro]]... [--idmap-bind PATH]... [--dev NAME]... [--proc]\n"
    "                  [--keep-fd N]..."
    "                  [--seccomp qemu|vmm|broker] -- PROGRAM ARGS...\n";

// Exit status of runvm-jail when a jail step fails (the program's own statuses pass through
// its exec), so a caller can tell the two apart.
inline constexpr int kJailFailureStatus = 125;

} // namespace runvm::jail
