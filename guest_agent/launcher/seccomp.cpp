// Seccomp profile translation: names to libseccomp constants, one rule per syscall name
// (or per condition, where runc splits them).
#include "guest_agent/launcher/seccomp.hpp"

#include <cerrno>
#include <utility>
#include <vector>

#include <seccomp.h>

namespace runvm::agent {

namespace {
// The agent runs in a VM: a seccomp agent on the host cannot receive a guest's notify fd.
constexpr const char* kNotifyUnsupported =
    "seccomp user notification (SCMP_ACT_NOTIFY, linux.seccomp.listenerPath) is not supported";

Result<uint32_t> action_from(const std::string& name, std::optional<uint32_t> errno_ret,
                             const std::string& field) {
    const uint32_t err = errno_ret.value_or(EPERM);
    if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") {
        return SCMP_ACT_KILL_THREAD;
    }
    if (name == "SCMP_ACT_KILL_PROCESS") {
        return SCMP_ACT_KILL_PROCESS;
    }
    if (name == "SCMP_ACT_TRAP") {
        return SCMP_ACT_TRAP;
    }
    if (name == "SCMP_ACT_ERRNO") {
        return SCMP_ACT_ERRNO(err);
    }
    if (name == "SCMP_ACT_TRACE") {
        return SCMP_ACT_TRACE(err);
    }
    if (name == "SCMP_ACT_ALLOW") {
        return SCMP_ACT_ALLOW;
    }
    if (name == "SCMP_ACT_LOG") {
        return SCMP_ACT_LOG;
    }
    if (name == "SCMP_ACT_NOTIFY") {
        return Err(Error::with_errno(EOPNOTSUPP, field + ": " + kNotifyUnsupported));
    }
    return Err(Error::with_errno(EINVAL, field + ": unknown action \"" + name + "\""));
}

// libseccomp (2.5) refuses two comparisons of one argument in a rule; runc then adds one
// rule per condition (so they OR), and so do we, for the same filter.
bool repeats_an_argument(const std::vector<scmp_arg_cmp>& conds) {
    unsigned counts[6] = {};
    for (const auto& c : conds) {
        if (++counts[c.arg] > 1) {
            return true;
        }
    }
    return false;
}

Result<void> add_rule(scmp_filter_ctx ctx, uint32_t action, int nr,
                      const std::vector<scmp_arg_cmp>& conds, const std::string& what) {
    const int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(conds.size()),
                                          conds.empty() ? nullptr : conds.data());
    if (rc < 0) {
        return Err(Error::with_errno(-rc, what));
    }
    return Ok();
}

Result<scmp_compare> op_from(const std::string& name, const std::string& field) {
    static const std::pair<const char*, scmp_compare> ops[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    };
    for (const auto& [n, op] : ops) {
        if (name == n) {
            return op;
        }
    }
    return Err(Error::with_errno(EINVAL, field + ": unknown operator \"" + name + "\""));
}

Result<uint32_t> arch_from(const std::string& name, const std::string& field) {
    const std::string prefix = "SCMP_ARCH_";
    std::string lower;
    for (char c : name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name) {
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    // "SCMP_ARCH_X86_64" -> "x86_64": seccomp_arch_resolve_name knows the lower-case names.
    const uint32_t arch = seccomp_arch_resolve_name(lower.c_str());
    if (arch == 0) {
        return Err(Error::with_errno(EINVAL, field + ": unknown architecture \"" + name + "\""));
    }
    return arch;
}

Result<void> set_flag(scmp_filter_ctx ctx, const std::string& flag, const std::string& field) {
    int rc = 0;
    if (flag == "SECCOMP_FILTER_FLAG_TSYNC") {
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    } else if (flag == "SECCOMP_FILTER_FLAG_LOG") {
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
    } else if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") {
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
    } else {
        return Err(Error::with_errno(EINVAL, field + ": unknown flag \"" + flag + "\""));
    }
    if (rc < 0) {
        return Err(Error::with_errno(-rc, field + ": seccomp_attr_set " + flag));
    }
    return Ok();
}
} // namespace

Result<SeccompFilter> SeccompFilter::build(const oci::Seccomp& spec) {
    const std::string base = "linux.seccomp";
    RUNVM_ASSIGN_OR_RETURN(
        const uint32_t def,
        action_from(spec.default_action, spec.default_errno_ret, base + ".defaultAction"));
    scmp_filter_ctx ctx = seccomp_init(def);
    if (ctx == nullptr) {
        return Err(Error::with_errno(EINVAL, base + ": seccomp_init"));
    }
    SeccompFilter filter(ctx);
    if (spec.listener_path && !spec.listener_path->empty()) {
        return Err(Error::with_errno(EOPNOTSUPP, base + ".listenerPath: " + kNotifyUnsupported));
    }
    // No-new-privileges is the spec's choice (process.noNewPrivileges), not libseccomp's.
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    const auto& arches = spec.architectures.value_or(std::vector<std::string>{});
    for (size_t i = 0; i < arches.size(); ++i) {
        const std::string field = base + ".architectures[" + std::to_string(i) + "]";
        RUNVM_ASSIGN_OR_RETURN(const uint32_t arch, arch_from(arches[i], field));
        const int rc = seccomp_arch_add(ctx, arch);
        if (rc < 0 && rc != -EEXIST) {
            return Err(Error::with_errno(-rc, field + ": seccomp_arch_add"));
        }
    }
    const auto& flags = spec.flags.value_or(std::vector<std::string>{});
    for (size_t i = 0; i < flags.size(); ++i) {
        RUNVM_TRY(set_flag(ctx, flags[i], base + ".flags[" + std::to_string(i) + "]"));
    }
    const auto& syscalls = spec.syscalls.value_or(std::vector<oci::SeccompSyscall>{});
    for (size_t i = 0; i < syscalls.size(); ++i) {
        const auto& sc = syscalls[i];
        const std::string field = base + ".syscalls[" + std::to_string(i) + "]";
        RUNVM_ASSIGN_OR_RETURN(const uint32_t action,
                               action_from(sc.action, sc.errno_ret, field + ".action"));
        if (action == def) {
            continue; // libseccomp refuses rules that repeat the default action
        }
        std::vector<scmp_arg_cmp> conds;
        const auto& args = sc.args.value_or(std::vector<oci::SeccompArg>{});
        for (size_t a = 0; a < args.size(); ++a) {
            const std::string afield = field + ".args[" + std::to_string(a) + "]";
            if (args[a].index > 5) {
                return Err(Error::with_errno(EINVAL, afield + ".index: over 5"));
            }
            RUNVM_ASSIGN_OR_RETURN(const scmp_compare op, op_from(args[a].op, afield + ".op"));
            conds.push_back(
                scmp_arg_cmp{args[a].index, op, args[a].value, args[a].value_two.value_or(0)});
        }
        for (const auto& name : sc.names) {
            const int nr = seccomp_syscall_resolve_name(name.c_str());
            if (nr == __NR_SCMP_ERROR) {
                continue; // unknown to this kernel/libseccomp: runc skips it too
            }
            const std::string what = field + ": seccomp_rule_add " + name;
            if (!repeats_an_argument(conds)) {
                RUNVM_TRY(add_rule(ctx, action, nr, conds, what));
                continue;
            }
            for (const auto& cond : conds) {
                RUNVM_TRY(add_rule(ctx, action, nr, {cond}, what));
            }
        }
    }
    return filter;
}

SeccompFilter::~SeccompFilter() {
    if (ctx_ != nullptr) {
        seccomp_release(ctx_);
    }
}

SeccompFilter::SeccompFilter(SeccompFilter&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)) {}

Result<void> SeccompFilter::load() const {
    const int rc = seccomp_load(ctx_);
    if (rc < 0) {
        return Err(Error::with_errno(-rc, "seccomp_load"));
    }
    return Ok();
}

} // namespace runvm::agent
