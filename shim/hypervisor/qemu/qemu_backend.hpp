// QemuBackend: QEMU's microvm machine with TCG (or KVM), a frontend of the broker's devices.
#pragma once

#include "base/unique_fd.hpp"
#include "shim/hypervisor/process_backend.hpp"

namespace runvm::shim {

class QemuBackend : public ProcessBackend {
public:
    explicit QemuBackend(bool use_kvm = false) : use_kvm_(use_kvm) {}
    std::string name() const override { return use_kvm_ ? "qemu-kvm" : "qemu-tcg"; }
    // paths.qemu, looked up in $PATH when it is a bare name.
    std::string program(const config::RuntimeConfig& settings) const override;
    Result<void> prepare(const VmConfig& config) override;

private:
    bool use_kvm_;
    UniqueFd guest_memory_; // the RAM file on a huge-page tmpfs, until QEMU has opened it
};

} // namespace runvm::shim
