// Picks the hypervisor backend: runvm-vmm where KVM is usable, QEMU with TCG elsewhere.
#include "shim/hypervisor/backend.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <spdlog/spdlog.h>

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

HypervisorKind resolve_hypervisor(HypervisorKind requested, std::string* why) {
    if (requested != HypervisorKind::automatic) {
        if (why) {
            *why = "requested explicitly";
        }
        return requested;
    }
    UniqueFd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
    std::string reason;
    HypervisorKind kind;
    if (kvm) {
        kind = HypervisorKind::kvm;
        reason = "/dev/kvm opens: runvm-vmm on KVM";
    } else {
        kind = HypervisorKind::qemu;
        reason = std::string("open /dev/kvm: ") + std::strerror(errno) + ": QEMU with TCG";
    }
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
