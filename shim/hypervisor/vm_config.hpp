// VmConfig: what every hypervisor backend needs to boot one sandbox VM.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "shim/config/runtime_config.hpp"

namespace runvm::shim {

// A virtio-net device served by the broker over vhost-user (docs/networking.md).
struct NetDeviceConfig {
    std::string socket; // the broker's vhost-user socket
    std::string mac;    // "02:42:ac:11:00:02": the host interface's, so peers see one station
};

struct VmConfig {
    // The guest image (config::guest_kernel, guest_initrd), the extra kernel arguments, vCPUs,
    // memory and the programs (paths): the settings as the layers above passed them on.
    config::RuntimeConfig settings;
    // Guest RAM on huge pages, where the backend has to be handed them (QEMU: a file on a
    // private huge-page tmpfs in work_dir, else a memfd); runvm-vmm asks for them itself.
    bool huge_pages = false;
    // The broker's vhost-user sockets (the broker listens before the hypervisor starts).
    std::string vsock_socket;
    std::string blk_socket;     // empty: no block device
    std::string fs_socket;      // empty: no virtio-fs device
    std::string fs_tag;         // the virtio-fs mount tag the guest mounts
    std::string console_socket; // empty: the kernel console goes to console_log
    // Empty: loopback only in the guest.
    std::vector<NetDeviceConfig> net_devices;
    uint32_t guest_cid = 3;
    std::string console_log; // where the hypervisor writes its serial output (a file or a pipe)
    // Given a log the backend keeps in work_dir (its stdout and stderr), the path the program
    // writes it through: the sandbox's pipe, drained into that file within a cap
    // (docs/sandbox.md, "Bounded guest output"). Unset: the file itself.
    std::function<Result<std::string>(const std::string& log)> log_writer;
    std::string work_dir; // per-VM scratch: config files, logs
    // settings.jail: the program runs through runvm-jail as settings.jail_user. It writes only
    // in jail_dir (<vmdir>/jail, the jail user's, where the sockets are); its root is mounted
    // on jail_root (<vmdir>/jail-root, empty).
    std::string jail_dir;
    std::string jail_root;
    // The uid and gid the jailed program runs as: the VM's own (shim/sandbox/vm_ids.hpp), not
    // jail_user's; 0: jail_user's.
    std::pair<uint32_t, uint32_t> jail_ids{0, 0};
    // runvm-vmm only (shim/sandbox/vm_template.hpp). A saved template to restore instead of
    // booting: its directory (for logs) and its open state and memory files, which the VMM
    // inherits (prepare() dups them: the caller keeps them open until then); -1: boot.
    std::string restore_dir;
    int restore_state_fd = -1;
    int restore_memory_fd = -1;
    std::string control_socket; // empty: none
    // A directory the VMM may write a snapshot into (bound writable into its jail); empty: none.
    std::string snapshot_dir;
};

} // namespace runvm::shim
