// Picks the hypervisor backend: runvm-vmm where KVM is usable, QEMU with TCG elsewhere.
#include "shim/hypervisor/backend.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include "base/io.hpp"
#include "base/text.hpp"
#include "base/unique_fd.hpp"
#include "shim/hypervisor/qemu/qemu_backend.hpp"
#include "shim/hypervisor/vmm/vmm_backend.hpp"

namespace runvm::shim {

config::Hypervisor choose_automatic(int kvm_open_errno, std::string_view cpu_flags,
                                    std::string* why) {
    bool hardware = false;
    for (const auto flag : words(cpu_flags)) {
        hardware = hardware || flag == "vmx" || flag == "svm";
    }
    config::Hypervisor kind = config::Hypervisor::qemu;
    std::string reason;
    if (kvm_open_errno != 0) {
        reason = std::string("open /dev/kvm: ") + std::strerror(kvm_open_errno) + ": QEMU with TCG";
    } else if (!hardware) {
        reason = "/dev/kvm opens, but the CPU has neither vmx nor svm (a paging-based KVM such as "
                 "kvm_pvm, which does not boot an unmodified Linux guest in time): QEMU with "
                 "TCG; hypervisor kvm uses it anyway";
    } else {
        kind = config::Hypervisor::kvm;
        reason = "/dev/kvm opens: runvm-vmm on KVM";
    }
    if (why) {
        *why = reason;
    }
    return kind;
}

config::Hypervisor resolve_hypervisor(config::Hypervisor requested, std::string* why) {
    if (requested != config::Hypervisor::automatic) {
        if (why) {
            *why = "requested explicitly";
        }
        return requested;
    }
    UniqueFd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
    const int open_errno = kvm ? 0 : errno;
    std::string flags;
    if (kvm) {
        const auto cpuinfo = read_file("/proc/cpuinfo").value_or(std::string());
        for (const auto line : split(cpuinfo, '\n')) {
            if (line.starts_with("flags")) {
                flags = std::string(line);
                break;
            }
        }
    }
    std::string reason;
    const config::Hypervisor kind = choose_automatic(open_errno, flags, &reason);
    spdlog::info("hypervisor auto: {}", reason);
    if (why) {
        *why = reason;
    }
    return kind;
}

std::unique_ptr<HypervisorBackend> make_backend(config::Hypervisor requested, std::string* why) {
    if (resolve_hypervisor(requested, why) == config::Hypervisor::kvm) {
        return std::make_unique<VmmBackend>();
    }
    return std::make_unique<QemuBackend>(false);
}

} // namespace runvm::shim
