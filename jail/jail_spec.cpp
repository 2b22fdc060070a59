// The runvm-jail command line: parse_jail_args and its inverse, jail_argv.
#include "jail/jail_spec.hpp"

#include <array>
#include <cerrno>
#include <charconv>

namespace runvm::jail {

namespace {

constexpr std::array<std::pair<SeccompProfile, std::string_view>, 4> kProfiles = {{
    {SeccompProfile::none, "none"},
    {SeccompProfile::qemu, "qemu"},
    {SeccompProfile::vmm, "vmm"},
    {SeccompProfile::broker, "broker"},
}};

Error bad(const std::string& what) {
    return Error::with_errno(EINVAL, what);
}

// A path the jail recreates inside its root: absolute, normalised, not the root itself.
Result<void> check_path(std::string_view option, const std::string& path) {
    if (path.size() < 2 || path.front() != '/' || path.back() == '/' ||
        path.find("//") != std::string::npos || path.find("/./") != std::string::npos ||
        path.find("/../") != std::string::npos || path.ends_with("/..") || path.ends_with("/.") ||
        path.find(',') != std::string::npos) {
        return Err(bad(std::string(option) + " " + path +
                       ": must be an absolute, normalised path other than /"));
    }
    return Ok();
}

// A device name: a file directly under /dev (null, kvm, net/tun is not one).
Result<void> check_device(const std::string& name) {
    if (name.empty() || name == "." || name == ".." ||
        name.find_first_of("/:") != std::string::npos) {
        return Err(bad("--dev " + name + ": must name a file directly under /dev"));
    }
    return Ok();
}

// "UID:GID", both non-zero: a jail as root is no jail.
Result<std::pair<uint32_t, uint32_t>> parse_ids(const std::string& v) {
    const size_t colon = v.find(':');
    uint32_t uid = 0;
    uint32_t gid = 0;
    bool ok = colon != std::string::npos;
    if (ok) {
        const char* mid = v.data() + colon;
        const auto u = std::from_chars(v.data(), mid, uid);
        const auto g = std::from_chars(mid + 1, v.data() + v.size(), gid);
        ok = u.ec == std::errc() && u.ptr == mid && g.ec == std::errc() &&
             g.ptr == v.data() + v.size() && uid != 0 && gid != 0 && uid != UINT32_MAX &&
             gid != UINT32_MAX;
    }
    if (!ok) {
        return Err(bad("--ids " + v + ": must be UID:GID, two ids other than 0"));
    }
    return std::pair{uid, gid};
}

Result<void> check_cap_name(const std::string& name) {
    const bool ok = !name.empty() && name.size() <= 32 &&
                    name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos;
    if (!ok) {
        return Err(bad("--keep-cap " + name + ": must be a capability name such as chown"));
    }
    return Ok();
}

} // namespace

std::string_view seccomp_profile_name(SeccompProfile p) {
    for (const auto& [profile, name] : kProfiles) {
        if (profile == p) {
            return name;
        }
    }
    return "?";
}

Result<JailSpec> parse_jail_args(std::span<const std::string> args) {
    JailSpec spec;
    size_t i = 0;
    auto value = [&](const std::string& option) -> Result<std::string> {
        if (i + 1 >= args.size()) {
            return Err(bad(option + ": needs a value"));
        }
        return args[++i];
    };
    bool program_seen = false;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            spec.program.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            program_seen = true;
            break;
        }
        if (a == "--userns") {
            spec.userns = true;
        } else if (a == "--userns-host-ids") {
            spec.userns_host_ids = true;
        } else if (a == "--proc") {
            spec.proc = true;
        } else if (a == "--root") {
            RUNVM_ASSIGN_OR_RETURN(spec.root, value(a));
            RUNVM_TRY(check_path(a, spec.root));
        } else if (a == "--user") {
            RUNVM_ASSIGN_OR_RETURN(spec.user, value(a));
        } else if (a == "--ids") {
            RUNVM_ASSIGN_OR_RETURN(auto v, value(a));
            RUNVM_ASSIGN_OR_RETURN(spec.ids, parse_ids(v));
        } else if (a == "--keep-cap") {
            RUNVM_ASSIGN_OR_RETURN(auto name, value(a));
            RUNVM_TRY(check_cap_name(name));
            spec.keep_caps.push_back(std::move(name));
        } else if (a == "--group-add") {
            RUNVM_ASSIGN_OR_RETURN(auto group, value(a));
            spec.group_add.push_back(std::move(group));
        } else if (a == "--bind") {
            RUNVM_ASSIGN_OR_RETURN(auto v, value(a));
            BindSpec bind{v, false};
            if (v.ends_with(":ro")) {
                bind = {v.substr(0, v.size() - 3), true};
            }
            RUNVM_TRY(check_path(a, bind.path));
            spec.binds.push_back(std::move(bind));
        } else if (a == "--idmap-bind") {
            RUNVM_ASSIGN_OR_RETURN(auto path, value(a));
            RUNVM_TRY(check_path(a, path));
            spec.idmap_binds.push_back(std::move(path));
        } else if (a == "--dev") {
            RUNVM_ASSIGN_OR_RETURN(auto name, value(a));
            RUNVM_TRY(check_device(name));
            spec.devices.push_back(std::move(name));
        } else if (a == "--keep-fd") {
            RUNVM_ASSIGN_OR_RETURN(auto v, value(a));
            int fd = -1;
            const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), fd);
            if (ec != std::errc() || end != v.data() + v.size() || fd < 3) {
                return Err(bad("--keep-fd " + v + ": must be a number above 2 (0-2 always stay)"));
            }
            spec.keep_fds.push_back(fd);
        } else if (a == "--seccomp") {
            RUNVM_ASSIGN_OR_RETURN(auto name, value(a));
            bool known = false;
            for (const auto& [profile, profile_name] : kProfiles) {
                if (profile_name == name && profile != SeccompProfile::none) {
                    spec.seccomp = profile;
                    known = true;
                }
            }
            if (!known) {
                return Err(bad("--seccomp " + name + ": must be qemu, vmm or broker"));
            }
        } else {
            return Err(bad("unknown option " + a));
        }
    }
    if (spec.root.empty()) {
        return Err(bad("--root is required"));
    }
    if (spec.user.empty()) {
        return Err(bad("--user is required"));
    }
    if (!program_seen || spec.program.empty()) {
        return Err(bad("no program: end the options with -- PROGRAM ARGS..."));
    }
    if (spec.program[0].empty() || spec.program[0].front() != '/') {
        return Err(bad("program " + spec.program[0] +
                       ": must be an absolute path (nothing is searched inside the jail)"));
    }
    if (spec.userns_host_ids && !spec.userns) {
        return Err(bad("--userns-host-ids needs --userns"));
    }
    if (!spec.keep_caps.empty() && !spec.userns) {
        return Err(bad("--keep-cap needs --userns (no host capability is ever kept)"));
    }
    if (!spec.idmap_binds.empty() && !spec.userns) {
        return Err(bad("--idmap-bind needs --userns (the mapping is the jail's user namespace)"));
    }
    return spec;
}

std::vector<std::string> jail_argv(const std::string& jailer, const JailSpec& spec) {
    std::vector<std::string> argv = {jailer, "--root", spec.root, "--user", spec.user};
    if (spec.ids) {
        argv.insert(argv.end(), {"--ids", std::to_string(spec.ids->first) + ":" +
                                              std::to_string(spec.ids->second)});
    }
    if (spec.userns) {
        argv.push_back("--userns");
    }
    if (spec.userns_host_ids) {
        argv.push_back("--userns-host-ids");
    }
    for (const auto& cap : spec.keep_caps) {
        argv.insert(argv.end(), {"--keep-cap", cap});
    }
    for (const auto& group : spec.group_add) {
        argv.insert(argv.end(), {"--group-add", group});
    }
    for (const auto& bind : spec.binds) {
        argv.insert(argv.end(), {"--bind", bind.path + (bind.readonly ? ":ro" : "")});
    }
    for (const auto& path : spec.idmap_binds) {
        argv.insert(argv.end(), {"--idmap-bind", path});
    }
    for (const auto& dev : spec.devices) {
        argv.insert(argv.end(), {"--dev", dev});
    }
    if (spec.proc) {
        argv.push_back("--proc");
    }
    for (const int fd : spec.keep_fds) {
        argv.insert(argv.end(), {"--keep-fd", std::to_string(fd)});
    }
    if (spec.seccomp != SeccompProfile::none) {
        argv.insert(argv.end(), {"--seccomp", std::string(seccomp_profile_name(spec.seccomp))});
    }
    argv.push_back("--");
    argv.insert(argv.end(), spec.program.begin(), spec.program.end());
    return argv;
}

} // namespace runvm::jail
