// LaunchPlan: everything the container's init needs, resolved and checked in the launcher
// before fork so the child only applies it (and a bad spec fails before any process exists).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "guest_agent/launcher/capabilities.hpp"
#include "guest_agent/launcher/namespaces.hpp"
#include "guest_agent/launcher/seccomp.hpp"
#include "oci/spec.hpp"

namespace runvm::agent {

// Where a process's stdio comes from: fds in the launcher (not owned here, -1: /dev/null),
// or a pty made in the container.
struct StdioFds {
    int in = -1;
    int out = -1;
    int err = -1;
};

// What every process in a container applies just before exec (init and exec'd ones alike).
struct ProcessPlan {
    oci::Process process;
    CapabilitySets caps;
    std::shared_ptr<SeccompFilter> seccomp; // null: no filter
    bool terminal = false;
};

struct LaunchPlan {
    std::string id;
    std::string bundle;
    std::string rootfs; // absolute directory
    oci::Spec spec;
    NamespacePlan namespaces;
    ProcessPlan process;
    std::string cgroup_dir; // absolute cgroup v2 directory to join, empty: none
    StdioFds stdio;
};

// Checks and resolves the parts of `spec` the launcher applies; errors name the field.
Result<ProcessPlan> plan_process(const oci::Process& process,
                                 const std::optional<oci::Linux>& linux_section);

Result<LaunchPlan> plan_launch(std::string id, std::string bundle, std::string rootfs,
                               oci::Spec spec);

} // namespace runvm::agent
