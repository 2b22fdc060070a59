// save_vcpu and restore_vcpu: one ioctl pair per piece of state.
#include "vmm/snapshot/vcpu_state.hpp"

namespace runvm::vmm::snapshot {

Result<VcpuState> save_vcpu(const kvm::Vcpu& vcpu, const std::vector<uint32_t>& msr_indices) {
    VcpuState s;
    RUNVM_ASSIGN_OR_RETURN(s.cpuid, vcpu.cpuid());
    RUNVM_ASSIGN_OR_RETURN(s.mp_state, vcpu.mp_state());
    RUNVM_ASSIGN_OR_RETURN(s.regs, vcpu.regs());
    RUNVM_ASSIGN_OR_RETURN(s.sregs, vcpu.sregs());
    RUNVM_ASSIGN_OR_RETURN(s.xsave, vcpu.xsave());
    RUNVM_ASSIGN_OR_RETURN(s.xcrs, vcpu.xcrs());
    RUNVM_ASSIGN_OR_RETURN(s.debugregs, vcpu.debugregs());
    RUNVM_ASSIGN_OR_RETURN(s.lapic, vcpu.lapic());
    RUNVM_ASSIGN_OR_RETURN(s.msrs, vcpu.msrs(msr_indices));
    RUNVM_ASSIGN_OR_RETURN(s.events, vcpu.events());
    return s;
}

Result<void> restore_vcpu(kvm::Vcpu& vcpu, const VcpuState& s) {
    RUNVM_TRY(vcpu.set_cpuid(s.cpuid));
    RUNVM_TRY(vcpu.set_mp_state(s.mp_state));
    RUNVM_TRY(vcpu.set_regs(s.regs));
    RUNVM_TRY(vcpu.set_sregs(s.sregs));
    RUNVM_TRY(vcpu.set_xsave(s.xsave));
    RUNVM_TRY(vcpu.set_xcrs(s.xcrs));
    RUNVM_TRY(vcpu.set_debugregs(s.debugregs));
    RUNVM_TRY(vcpu.set_lapic(s.lapic));
    RUNVM_TRY(vcpu.set_msrs(s.msrs));
    // Only what was saved is set: KVM_VCPUEVENT_VALID_* flags say which parts are.
    RUNVM_TRY(vcpu.set_events(s.events));
    return Ok();
}

} // namespace runvm::vmm::snapshot
