// The VM pool (issue #23, docs/design/fast-start.md): VMs booted ahead of their containers,
// kept under --root as state directories of their own (ids runvm-pool-<key>-<n>), each taken
// by exactly one container, which then runs in it as a pod member runs in its pod's VM.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "base/result.hpp"
#include "oci/spec.hpp"
#include "shim/config/runtime_config.hpp"
#include "shim/container/container_store.hpp"

namespace runvm::shim {

inline constexpr char kPoolIdPrefix[] = "runvm-pool-";
// In a pooled VM's record: the key of the settings it was booted with.
inline constexpr char kPoolKeyAnnotation[] = "io.runvm.pool-key";

// Network devices a pooled VM boots with and no tap behind them (Sandbox's spare links): a
// container whose network namespace holds at most this many interfaces can take it.
inline constexpr size_t kPoolSpareLinks = 1;

// Everything that shapes a booted VM, hashed (16 hex digits): the VM's settings, and the
// identity (size, mtime) of the guest image and of the programs that boot it. Two settings
// with one key boot the same VM.
std::string pool_key(const config::RuntimeConfig& settings);
// A runvm-vmm template's key (shim/sandbox/vm_template.hpp): the pool key and the VMM's and
// the broker's files, whose snapshot and ring formats the template is in.
std::string vm_template_key(const config::RuntimeConfig& settings);

// Why this container cannot start in a pooled VM and boots its own, or nullopt when it can.
// A pooled VM is sized before its container exists, so a spec that asks for a size (limits,
// io.runvm.* settings, a CRI pod's totals) boots its own. A network namespace to join is
// fine: its interfaces take the VM's spare links (at most kPoolSpareLinks, counted before the
// claim). Hooks run around the container's creation and start as for a VM's own. (A cgroup path is
// fine: the claim moves the VM's processes there.)
std::optional<std::string> pool_refusal(const oci::Spec& spec, const std::string& id,
                                        const config::RuntimeConfig& settings, uid_t euid);

bool is_pool_vm_id(const std::string& id);
// runvm-pool-<key>-<8 random hex digits>
std::string new_pool_vm_id(const std::string& key);

// The pooled VM's marks in its state directory: "ready" once its agent answers and its
// control socket listens; "claim" made (O_EXCL) by whoever takes it: a container, or the VM
// itself when it shuts down unclaimed.
std::string pool_ready_mark(const ContainerStore& store, const std::string& id);
std::string pool_claim_mark(const ContainerStore& store, const std::string& id);

// O_CREAT|O_EXCL of the claim mark: true for the one caller that made it.
Result<bool> take_pool_claim(const ContainerStore& store, const std::string& id);

struct PoolEntry {
    std::string id;
    std::string key;
    std::string state; // booting, ready, claimed, stopped (its monitor is gone)
    int monitor_pid = 0;
    std::string created;
};

// Every pooled VM under root, by id.
std::vector<PoolEntry> list_pool(const ContainerStore& store);

// Ends one pooled VM that no container holds (a ready or booting one is claimed first, so
// none takes it meanwhile) and removes what it leaves: asked over its control socket, else
// killed (its broker and hypervisor die with its monitor), then delete_container's cleanup.
Result<void> remove_pooled_vm(const std::string& root, const PoolEntry& entry);

// Takes one ready, unclaimed, running VM of `key`; nullopt when there is none.
std::optional<std::string> claim_pool_vm(const ContainerStore& store, const std::string& key);

} // namespace runvm::shim
