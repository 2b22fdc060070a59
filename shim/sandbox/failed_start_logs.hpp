// The evidence of the last failed start: the per-VM logs (console, hypervisor, broker) are
// removed with their VM, so a VM that failed to start or died leaves their tails here first.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace runvm::shim {

// At most this much of the end of each log is kept.
inline constexpr size_t kFailedStartLogTail = 256 * 1024;

// <VM base>/last-failed-start: /run/runvm-vm as root, /tmp/runvm-vm otherwise (the base of
// ContainerStore::run_dir). One per machine: each failure replaces the last one's. A pooled
// VM's (vm_pool.hpp), booted in the background, go to last-failed-pool-start instead, so that
// they never replace the evidence of a container's own failed start.
std::string failed_start_log_dir(bool pooled = false);

// Copies the tail of each of `files` (the VM's logs in `run_dir`, which the sandbox and its
// hypervisor backend name) into failed_start_log_dir() under its own name, with a `reason` file
// (container id, time, error), replacing what was there. Returns the directory, or "" when
// there was no log to keep or the copy failed (logged: the failure it documents matters more).
std::string keep_failed_start_logs(const std::string& run_dir, const std::string& id,
                                   const std::string& reason, const std::vector<std::string>& files,
                                   bool pooled = false);

// "<error>; logs: <dir>" when the logs were kept, else the error unchanged.
std::string with_kept_logs(const std::string& error, const std::string& kept_dir);

} // namespace runvm::shim
