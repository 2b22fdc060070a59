// Resolution of names (capabilities, rlimits, seccomp) and the checks runc makes up front.
#include "guest_agent/launcher/launch_plan.hpp"

#include <cerrno>

#include <sched.h>
#include <spdlog/spdlog.h>

#include "guest_agent/launcher/personality.hpp"
#include "guest_agent/launcher/rlimits.hpp"

namespace runvm::agent {

Result<ProcessPlan> plan_process(const oci::Process& process,
                                 const std::optional<oci::Linux>& linux_section) {
    ProcessPlan plan;
    plan.process = process;
    plan.terminal = process.terminal.value_or(false);
    if (!process.args || process.args->empty()) {
        return Err(Error::with_errno(EINVAL, "process.args: must not be empty"));
    }
    if (process.cwd.empty() || process.cwd[0] != '/') {
        return Err(Error::with_errno(EINVAL, "process.cwd: must be an absolute path"));
    }
    // The guest kernel has no LSM: confinement is the VM's, and a profile named after the
    // host's policy (containerd and docker set one whenever the host has AppArmor) cannot
    // apply in here. Refusing would fail every such container, so warn (docs/agent.md).
    if (process.apparmor_profile && !process.apparmor_profile->empty()) {
        spdlog::warn("process.apparmorProfile \"{}\": no AppArmor here, ignored",
                     *process.apparmor_profile);
    }
    if (process.selinux_label && !process.selinux_label->empty()) {
        spdlog::warn("process.selinuxLabel \"{}\": no SELinux here, ignored",
                     *process.selinux_label);
    }
    if (process.capabilities) {
        RUNVM_ASSIGN_OR_RETURN(plan.caps, resolve_capabilities(*process.capabilities));
    }
    const auto& limits = process.rlimits.value_or(std::vector<oci::Rlimit>{});
    for (size_t i = 0; i < limits.size(); ++i) {
        auto r = rlimit_from_name(limits[i].type);
        if (!r.ok()) {
            return Err(
                std::move(r).error().context("process.rlimits[" + std::to_string(i) + "].type"));
        }
        if (limits[i].soft > limits[i].hard) {
            return Err(Error::with_errno(EINVAL, "process.rlimits[" + std::to_string(i) +
                                                     "]: soft over hard"));
        }
    }
    if (linux_section && linux_section->seccomp) {
        RUNVM_ASSIGN_OR_RETURN(SeccompFilter f, SeccompFilter::build(*linux_section->seccomp));
        plan.seccomp = std::make_shared<SeccompFilter>(std::move(f));
    }
    return plan;
}

Result<LaunchPlan> plan_launch(std::string id, std::string bundle, std::string rootfs,
                               oci::Spec spec) {
    LaunchPlan plan;
    if (!spec.process) {
        return Err(Error::with_errno(EINVAL, "process: missing"));
    }
    RUNVM_ASSIGN_OR_RETURN(plan.namespaces, plan_namespaces(spec));
    if (!plan.namespaces.has(CLONE_NEWNS)) {
        return Err(Error::with_errno(EINVAL, "linux.namespaces: a mount namespace is required"));
    }
    if (spec.hostname && !spec.hostname->empty() && !plan.namespaces.has(CLONE_NEWUTS)) {
        return Err(Error::with_errno(
            EINVAL, "hostname: unable to set hostname without a private UTS namespace"));
    }
    const bool userns = plan.namespaces.has(CLONE_NEWUSER);
    const bool has_maps = spec.linux && spec.linux->uid_mappings && spec.linux->gid_mappings &&
                          !spec.linux->uid_mappings->empty() && !spec.linux->gid_mappings->empty();
    if ((plan.namespaces.new_flags & CLONE_NEWUSER) != 0 && !has_maps) {
        return Err(Error::with_errno(
            EINVAL, "linux.uidMappings: a user namespace needs uidMappings and gidMappings"));
    }
    if (!userns && spec.linux && spec.linux->uid_mappings && !spec.linux->uid_mappings->empty()) {
        return Err(Error::with_errno(EINVAL, "linux.uidMappings: set without a user namespace"));
    }
    RUNVM_ASSIGN_OR_RETURN(plan.process, plan_process(*spec.process, spec.linux));
    if (spec.linux && spec.linux->personality) {
        RUNVM_TRY(personality_domain(*spec.linux->personality));
        if (spec.linux->personality->flags && !spec.linux->personality->flags->empty()) {
            spdlog::warn("container {}: linux.personality.flags not supported, ignored", id);
        }
    }
    plan.id = std::move(id);
    plan.bundle = std::move(bundle);
    plan.rootfs = std::move(rootfs);
    plan.spec = std::move(spec);
    return plan;
}

} // namespace runvm::agent
