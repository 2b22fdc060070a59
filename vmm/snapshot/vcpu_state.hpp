// One vCPU's architectural state as KVM keeps it: what a snapshot saves and a restore sets,
// in Firecracker's order (the order matters: see restore_vcpu).
#pragma once

#include <vector>

#include <linux/kvm.h>

#include "base/result.hpp"
#include "vmm/kvm/vcpu.hpp"

namespace runvm::vmm::snapshot {

struct VcpuState {
    std::vector<kvm_cpuid_entry2> cpuid;
    kvm_mp_state mp_state{};
    kvm_regs regs{};
    kvm_sregs sregs{};
    kvm::abi::Xsave xsave{}; // the FPU, SSE and AVX state (4 KiB, the legacy XSAVE area)
    kvm_xcrs xcrs{};
    kvm_debugregs debugregs{};
    kvm_lapic_state lapic{};
    std::vector<kvm_msr_entry> msrs; // the MSRs of Kvm::msr_index_list, in that order
    kvm_vcpu_events events{};        // pending exceptions, interrupts, NMIs, SMM
};

// The vCPU must be stopped (not in KVM_RUN) and have no I/O exit pending
// (Vcpu::complete_pending_io).
Result<VcpuState> save_vcpu(const kvm::Vcpu& vcpu, const std::vector<uint32_t>& msr_indices);

// Into a new vCPU of a VM made the same way: the CPUID first (it decides which MSRs and
// XSAVE features exist), the events last (they refer to the state set before them).
Result<void> restore_vcpu(kvm::Vcpu& vcpu, const VcpuState& state);

} // namespace runvm::vmm::snapshot
