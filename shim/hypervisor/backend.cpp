// Picks the hypervisor backend: runvm-vmm where KVM is usable, QEMU with TCG elsewhere.
#include "shim/hypervisor/backend.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include "base/io.hpp"
#include "base/text.hpp"
#include "base/unique_fd.hpp"
#include "shim/hypervisor/qemu_backend.hpp"
#include "shim/hypervisor/vmm_backend.hpp"

namespace runvm::shim {

Result<HypervisorKind> parse_hypervisor_kind(std::string_view text) {
    if (text == "auto" || text.empty()) {
        return HypervisorKind::automatic;
    }
    if (text == "qemu") {
        return HypervisorKind::qemu;
    }
    if (text == "kvm" || text == "runvm-vmm") {
        return HypervisorKind::kvm;
    }
    return Err(Error::msg("hypervisor: unknown value '" + std::string(text) +
                          "' (want auto, kvm or qemu)"));
}

HypervisorKind choose_automatic(int kvm_open_errno, std::string_view cpu_flags, std::string* why) {
    bool hardware = false;
    for (const auto flag : words(cpu_flags)) {
        hardware = hardware || flag == "vmx" || flag == "svm";
    }
    HypervisorKind kind = HypervisorKind::qemu;
    std::string reason;
    if (kvm_open_errno != 0) {
        reason = std::string("open /dev/kvm: ") + std::strerror(kvm_open_errno) + ": QEMU with TCG";
    } else if (!hardware) {
        reason = "/dev/kvm opens, but the CPU has neither vmx nor svm (a paging-based KVM such as "
                 "kvm_pvm, which does not boot an unmodified Linux guest in time): QEMU with "
                 "TCG; hypervisor kvm uses it anyway";
    } else {
        kind = HypervisorKind::kvm;
        reason = "/dev/kvm opens: runvm-vmm on KVM";
    }
    if (why) {
        *why = reason;
    }
    return kind;
}

HypervisorKind resolve_hypervisor(HypervisorKind requested, std::string* why) {
    if (requested != HypervisorKind::automatic) {
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
    const HypervisorKind kind = choose_automatic(open_errno, flags, &reason);
    spdlog::info("hypervisor auto: {}", reason);
    if (why) {
        *why = reason;
    }
    return kind;
}

std::unique_ptr<HypervisorBackend> make_backend(HypervisorKind resolved) {
    if (resolved == HypervisorKind::kvm) {
        return std::make_unique<VmmBackend>();
    }
    return std::make_unique<QemuBackend>(false);
}

} // namespace runvm::shim
