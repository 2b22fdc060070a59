// VmConfig: what every hypervisor backend needs to boot one sandbox VM.
#pragma once

#include <cstdint>
#include <string>

namespace runvm::shim {

struct VmConfig {
    std::string kernel;         // bzImage (QEMU) or vmlinux/bzImage (runvm-vmm)
    std::string initrd;         // the guest image's initramfs
    std::string kernel_cmdline; // extra arguments after the backend's own
    uint32_t vcpus = 1;
    uint64_t memory_mib = 256;
    // The broker's vhost-user sockets (the broker listens before the hypervisor starts).
    std::string vsock_socket;
    std::string blk_socket;     // empty: no block device
    std::string console_socket; // empty: the kernel console goes to console_log
    uint32_t guest_cid = 3;
    std::string console_log; // the hypervisor's serial output, kept for errors
    std::string work_dir;    // per-VM scratch: config files, logs
    std::string binary;      // empty: the backend's default program
};

} // namespace runvm::shim
