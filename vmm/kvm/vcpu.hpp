// Vcpu: one KVM vCPU fd and its shared kvm_run page, with the register ioctls.
#pragma once

#include <cstdint>
#include <vector>

#include <linux/kvm.h>

#include "base/mapping.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "vmm/kvm/abi.hpp"
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

    // What a snapshot keeps beyond the above (vmm/snapshot/vcpu_state.hpp).
    Result<std::vector<kvm_cpuid_entry2>> cpuid() const;
    Result<std::vector<kvm_msr_entry>> msrs(const std::vector<uint32_t>& indices) const;
    Result<abi::Xsave> xsave() const;
    Result<void> set_xsave(const abi::Xsave& xsave);
    Result<kvm_xcrs> xcrs() const;
    Result<void> set_xcrs(const kvm_xcrs& xcrs);
    Result<kvm_vcpu_events> events() const;
    Result<void> set_events(const kvm_vcpu_events& events);
    Result<kvm_mp_state> mp_state() const;
    Result<void> set_mp_state(const kvm_mp_state& mp_state);
    Result<kvm_debugregs> debugregs() const;
    Result<void> set_debugregs(const kvm_debugregs& debugregs);

    // After a PIO or MMIO exit the instruction completes only at the next KVM_RUN; this one
    // returns at once (immediate_exit) having done just that, so what is read next is the
    // state after the instruction and a restore does not repeat it.
    Result<void> complete_pending_io();

private:
    Vcpu(uint32_t id, UniqueFd fd, Mapping run)
        : id_(id), fd_(std::move(fd)), run_(std::move(run)) {}
    uint32_t id_;
    UniqueFd fd_;
    Mapping run_;
};

} // namespace runvm::vmm::kvm
