// save_vm and restore_vm.
#include "vmm/snapshot/vm_state.hpp"

namespace runvm::vmm::snapshot {

Result<VmState> save_vm(const kvm::Vm& vm) {
    VmState s;
    RUNVM_ASSIGN_OR_RETURN(s.pic_master, vm.irqchip(KVM_IRQCHIP_PIC_MASTER));
    RUNVM_ASSIGN_OR_RETURN(s.pic_slave, vm.irqchip(KVM_IRQCHIP_PIC_SLAVE));
    RUNVM_ASSIGN_OR_RETURN(s.ioapic, vm.irqchip(KVM_IRQCHIP_IOAPIC));
    RUNVM_ASSIGN_OR_RETURN(s.pit, vm.pit());
    RUNVM_ASSIGN_OR_RETURN(s.clock, vm.clock());
    return s;
}

Result<void> restore_vm(kvm::Vm& vm, const VmState& s) {
    RUNVM_TRY(vm.set_irqchip(s.pic_master));
    RUNVM_TRY(vm.set_irqchip(s.pic_slave));
    RUNVM_TRY(vm.set_irqchip(s.ioapic));
    RUNVM_TRY(vm.set_pit(s.pit));
    // KVM_GET_CLOCK's flags describe the reading (TSC stable, realtime); KVM_SET_CLOCK takes
    // only the clock with flags 0.
    kvm_clock_data clock{};
    clock.clock = s.clock.clock;
    RUNVM_TRY(vm.set_clock(clock));
    return Ok();
}

} // namespace runvm::vmm::snapshot
