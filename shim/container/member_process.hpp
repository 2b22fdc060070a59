// A pod member's own process (pod.hpp): what `runvm create` leaves behind for an app
// container of a pod instead of a monitor with a VM. It hands the container to its pod's
// monitor and stands in for the container's init (the --pid-file pid): it exits with the
// container's status.
#pragma once

#include <optional>
#include <string>

#include "oci/spec.hpp"
#include "shim/container/monitor_options.hpp"

namespace runvm::shim {

// Runs the member to its end; returns its exit status, or 255 when it could not be created
// (the error reported as run_monitor reports it).
int run_member(const MonitorOptions& options, const oci::Spec& spec, const std::string& sandbox_id,
               std::string* create_error);

// A standalone container in a pooled VM (vm_pool.hpp): claims one, hands the container to
// its monitor as a member, and runs to its end. nullopt when the container is to boot a VM
// of its own: the pool is off or refuses it, no pooled VM is ready, or the one taken failed
// (logged as one warning line; the id stays claimed for that boot).
std::optional<int> run_in_pooled_vm(const MonitorOptions& options, const oci::Spec& spec,
                                    std::string* create_error);

} // namespace runvm::shim
