// Builds QEMU's command line: microvm, memfd-backed shared memory, vhost-user devices.
#include "shim/hypervisor/qemu/qemu_backend.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "shim/hypervisor/guest_boot_options.hpp"
#include "shim/hypervisor/jail_command.hpp"
#include "shim/hypervisor/qemu/guest_memory_file.hpp"

namespace runvm::shim {

namespace {

Result<void> require_file(const std::string& path, const char* what) {
    if (path.empty()) {
        return Err(Error::msg(std::string(what) + ": no path configured"));
    }
    if (::access(path.c_str(), R_OK) != 0) {
        return Err(Error::from_errno(std::string(what) + " " + path));
    }
    return Ok();
}

} // namespace

std::string QemuBackend::program(const config::RuntimeConfig& settings) const {
    return settings.paths.qemu;
}

Result<void> QemuBackend::prepare(const VmConfig& config) {
    const config::RuntimeConfig& settings = config.settings;
    const std::string kernel = config::guest_kernel(settings);
    const std::string initrd = config::guest_initrd(settings);
    RUNVM_TRY(require_file(kernel, "kernel"));
    RUNVM_TRY(require_file(initrd, "initramfs"));
    if (config.vsock_socket.empty()) {
        return Err(Error::msg("qemu: no vsock socket (the agent is reached over vsock)"));
    }
    const bool jailed = settings.jail;
    if (jailed) {
        RUNVM_TRY(resolve_jail_user(config, use_kvm_ ? std::vector<std::string>{"kvm"}
                                                     : std::vector<std::string>{}));
    }
    const std::string mem = std::to_string(settings.memory_mib) + "M";
    std::string memory_file;
    if (config.huge_pages && !config.work_dir.empty()) {
        auto ram =
            open_huge_guest_memory(config.work_dir + "/ram", uint64_t{settings.memory_mib} << 20);
        if (ram.ok() && jailed) {
            RUNVM_ASSIGN_OR_RETURN(memory_file, hand_over(std::move(ram).value(), "guest RAM"));
        } else if (ram.ok()) {
            guest_memory_ = std::move(ram).value();
            memory_file = fd_path_for_peer(guest_memory_.get());
        } else {
            spdlog::debug("{}: guest RAM in a memfd: {}", name(), ram.error().str());
        }
    }
    std::string serial = config.console_log.empty() ? "null" : "file:" + config.console_log;
    if (jailed && !config.console_log.empty()) {
        RUNVM_ASSIGN_OR_RETURN(const std::string console,
                               hand_over(config.console_log, O_WRONLY, "console log"));
        serial = "file:" + console;
    }
    // QEMU 7.2 microvm: no PCI, virtio-mmio devices announced through ACPI; -no-reboot turns
    // the guest's reboot (and panic=-1) into QEMU's exit.
    const std::string cmdline =
        "console=ttyS0 quiet panic=-1 reboot=t " + guest_boot_options(settings);
    // TCG's translation cache is anonymous memory that a busy guest fills to the cap (QEMU
    // 7.2: 1 GiB): the cap is part of the VM's host overhead (docs/resources.md).
    const std::string accel =
        use_kvm_ ? "kvm" : "tcg,tb-size=" + std::to_string(settings.tcg_tb_size_mib);
    argv_ = {program(settings), "-accel", accel, "-machine", "microvm,acpi=on,memory-backend=mem",
             "-nodefaults", "-no-user-config", "-nographic", "-no-reboot", "-m", mem, "-smp",
             std::to_string(settings.vcpus),
             // vhost-user backends map guest memory: it must be a shareable fd. A file on a
             // huge-page tmpfs needs its mapping 2 MiB-aligned to get huge pages.
             "-object",
             memory_file.empty() ? "memory-backend-memfd,id=mem,size=" + mem + ",share=on"
                                 : "memory-backend-file,id=mem,size=" + mem +
                                       ",mem-path=" + memory_file + ",share=on,align=2M",
             "-kernel", kernel, "-initrd", initrd, "-append", cmdline, "-serial", serial,
             "-chardev", "socket,id=vsock0,path=" + config.vsock_socket,
             // The guest's CID is the broker's (--vsock ...,cid=): QEMU 7.2's
             // vhost-user-vsock-device has no guest-cid property.
             "-device", "vhost-user-vsock-device,chardev=vsock0"};
    if (!config.blk_socket.empty()) {
        argv_.insert(argv_.end(), {"-chardev", "socket,id=blk0,path=" + config.blk_socket,
                                   "-device", "vhost-user-blk,chardev=blk0,num-queues=1"});
    }
    // QEMU's own virtio-net frontend over vhost-user: it keeps the control queue itself and
    // takes the MAC from mac= (the broker's config space carries the same one).
    for (size_t i = 0; i < config.net_devices.size(); ++i) {
        const auto& net = config.net_devices[i];
        const std::string n = std::to_string(i);
        argv_.insert(argv_.end(),
                     {"-chardev", "socket,id=net" + n + ",path=" + net.socket, "-netdev",
                      "vhost-user,id=netdev" + n + ",chardev=net" + n, "-device",
                      "virtio-net-device,netdev=netdev" + n +
                          (net.mac.empty() ? std::string() : ",mac=" + net.mac)});
    }
    if (!config.fs_socket.empty()) {
        argv_.insert(argv_.end(), {"-chardev", "socket,id=fs0,path=" + config.fs_socket, "-device",
                                   "vhost-user-fs-device,chardev=fs0,tag=" + config.fs_tag});
    }
    if (jailed) {
        // QEMU's own filter on top of the jail's: no obsolete calls, no set*id, no fork or
        // exec, no scheduler or resource changes.
        argv_.insert(argv_.end(), {"-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
                                               "resourcecontrol=deny"});
        RUNVM_ASSIGN_OR_RETURN(argv_[0], absolute_program(argv_[0]));
        RUNVM_ASSIGN_OR_RETURN(jail::JailSpec spec, hypervisor_jail(config, std::move(argv_)));
        spec.seccomp = jail::SeccompProfile::qemu;
        spec.keep_fds = handed_fds();
        if (use_kvm_) {
            spec.devices.push_back("kvm");
            spec.group_add.push_back("kvm");
        }
        argv_ = jail::jail_argv(jail_program(), spec);
    }
    RUNVM_TRY(
        set_log(config, config.work_dir.empty() ? "/dev/null" : config.work_dir + "/qemu.log"));
    work_files_.clear();
    if (!config.work_dir.empty()) {
        work_files_.push_back(log_path_);
    }
    return Ok();
}

} // namespace runvm::shim
