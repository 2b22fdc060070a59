// Vcpu: one KVM vCPU fd and its shared kvm_run page, with the register ioctls.
#pragma once

#include <cstdint>
#include <vector>

#include <linux/kvm.h>

#include "base/mapping.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "vmm/kvm/kvm.hpp"
#include "vmm/kvm/vm.hpp"

namespace runvm::vmm::kvm {

class Vcpu {
public:
    static Result<Vcpu> create(const Kvm& kvm, const Vm& vm, uint32_t id);

    uint32_t id() const { return id_; }
    int fd() const { return fd_.get(); }
    // Invariant: the mapping is the vCPU's kvm_run page, sized by KVM_GET_VCPU_MMAP_SIZE.
    kvm_run* run_page() const { return reinterpret_cast<kvm_run*>(run_.data()); }
    // The whole mapping: kvm_run, then the PIO data page and the coalesced MMIO ring.
    uint64_t run_size() const { return run_.size(); }

    // KVM_RUN once. EINTR (a kick) is not an error: the exit reason reads KVM_EXIT_INTR.
    Result<void> run();

    Result<kvm_regs> regs() const;
    Result<void> set_regs(const kvm_regs& regs);
    Result<kvm_sregs> sregs() const;
    Result<void> set_sregs(const kvm_sregs& sregs);
    Result<void> set_fpu(const kvm_fpu& fpu);
    Result<void> set_cpuid(const std::vector<kvm_cpuid_entry2>& entries);
    Result<void> set_msrs(const std::vector<kvm_msr_entry>& msrs);
    Result<kvm_lapic_state> lapic() const;
    Result<void> set_lapic(const kvm_lapic_state& lapic);

private:
    Vcpu(uint32_t id, UniqueFd fd, Mapping run)
        : id_(id), fd_(std::move(fd)), run_(std::move(run)) {}
    uint32_t id_;
    UniqueFd fd_;
    Mapping run_;
};

} // namespace runvm::vmm::kvm
