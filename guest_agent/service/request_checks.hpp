// Checks every handler applies to a request before acting on it: ids, spec JSON, process
// JSON, resources JSON, rootfs source. Pure functions, also driven by the fuzz target.
#pragma once

#include <string>

#include "agent.pb.h"
#include "base/result.hpp"
#include "oci/spec.hpp"

namespace runvm::agent {

// Container and exec ids: 1-128 of [A-Za-z0-9_.-], not starting with '.' (they become
// path components and cgroup names).
Result<void> check_id(const std::string& id, const char* field, bool allow_empty);

// A virtio-fs share to mount: tag at most 36 bytes, an absolute mount point without "..".
Result<void> check_shared_fs(const runvm::agent::v1::SharedFs& fs);

// CreateContainer: ids, the spec (parse + validate + what the launcher resolves), rootfs,
// the shared file system.
Result<oci::Spec> check_create(const runvm::agent::v1::CreateContainerRequest& req);

// ExecProcess: ids and the process object (a runtime-spec Process).
Result<oci::Process> check_exec(const runvm::agent::v1::ExecProcessRequest& req);

// UpdateContainer: a runtime-spec LinuxResources object.
Result<oci::Resources> check_update(const runvm::agent::v1::UpdateContainerRequest& req);

// A signal number the kernel accepts (1..64).
Result<void> check_signal(uint32_t signal);

} // namespace runvm::agent
