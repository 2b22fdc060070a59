// The VM-wide state KVM keeps in the kernel for runvm-vmm's machine: the two 8259 PICs, the
// IOAPIC, the PIT and kvmclock. The legacy devices runvm-vmm emulates itself (serial, i8042)
// and the virtio-mmio transports are saved by their owners.
#pragma once

#include <linux/kvm.h>

#include "base/result.hpp"
#include "vmm/kvm/vm.hpp"

namespace runvm::vmm::snapshot {

struct VmState {
    kvm_irqchip pic_master{};
    kvm_irqchip pic_slave{};
    kvm_irqchip ioapic{};
    kvm_pit_state2 pit{};
    kvm_clock_data clock{};
};

// Every vCPU stopped first: the clock read here is the guest's time at the snapshot.
Result<VmState> save_vm(const kvm::Vm& vm);

// Into a VM made by Vm::create (which made the irqchip and the PIT): the guest's clock goes
// on from where it was saved, so time inside does not jump by the snapshot's age.
Result<void> restore_vm(kvm::Vm& vm, const VmState& state);

} // namespace runvm::vmm::snapshot
