// QemuBackend: QEMU's microvm machine with TCG (or KVM), a frontend of the broker's devices.
#pragma once

#include "shim/hypervisor/process_backend.hpp"

namespace runvm::shim {

class QemuBackend : public ProcessBackend {
public:
    explicit QemuBackend(bool use_kvm = false) : use_kvm_(use_kvm) {}
    std::string name() const override { return use_kvm_ ? "qemu-kvm" : "qemu-tcg"; }
    Result<void> prepare(const VmConfig& config) override;

private:
    bool use_kvm_;
};

} // namespace runvm::shim
