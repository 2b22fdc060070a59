// VmConfig: what every hypervisor backend needs to boot one sandbox VM.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace runvm::shim {

// A virtio-net device served by the broker over vhost-user (docs/networking.md).
struct NetDeviceConfig {
    std::string socket; // the broker's vhost-user socket
    std::string mac;    // "02:42:ac:11:00:02": the host interface's, so peers see one station
};

struct VmConfig {
    std::string kernel;         // bzImage (QEMU) or vmlinux/bzImage (runvm-vmm)
    std::string initrd;         // the guest image's initramfs
    std::string kernel_cmdline; // extra arguments after the backend's own
    uint32_t vcpus = 1;
    uint64_t memory_mib = 256;
    // A file for guest RAM that the hypervisor opens (fd_path_for_peer of a huge-page file);
    // empty: the backend's own shareable memory (a memfd).
    std::string memory_file;
    // The broker's vhost-user sockets (the broker listens before the hypervisor starts).
    std::string vsock_socket;
    std::string blk_socket;     // empty: no block device
    std::string fs_socket;      // empty: no virtio-fs device
    std::string fs_tag;         // the virtio-fs mount tag the guest mounts
    std::string console_socket; // empty: the kernel console goes to console_log
    // Empty: loopback only in the guest.
    std::vector<NetDeviceConfig> net_devices;
    uint32_t guest_cid = 3;
    std::string console_log; // the hypervisor's serial output, kept for errors
    std::string work_dir;    // per-VM scratch: config files, logs
    std::string binary;      // empty: the backend's default program
};

} // namespace runvm::shim
