// Vm: one KVM VM fd with its in-kernel irqchip and PIT, memory slots, irqfds and
// ioeventfds.
#pragma once

#include <cstdint>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "vmm/kvm/kvm.hpp"
#include "vmm/memory/guest_memory.hpp"

namespace runvm::vmm::kvm {

class Vm {
public:
    // KVM_CREATE_VM, TSS and identity-map addresses, IRQCHIP, PIT2.
    static Result<Vm> create(const Kvm& kvm);

    int fd() const { return fd_.get(); }
    // One KVM memory slot per guest RAM region.
    Result<void> map_memory(const GuestMemory& mem);
    Result<void> register_irqfd(int event_fd, uint32_t gsi);
    // Writes of `len` bytes to `addr` matching `datamatch` signal event_fd in the kernel.
    Result<void> register_ioeventfd(int event_fd, uint64_t addr, uint32_t len, uint64_t datamatch,
                                    bool pio);
    Result<void> set_irq_line(uint32_t gsi, bool level);

    // The in-kernel devices' state, for a snapshot (vmm/snapshot/vm_state.hpp).
    Result<kvm_irqchip> irqchip(uint32_t chip_id) const; // KVM_IRQCHIP_PIC_MASTER, ...
    Result<void> set_irqchip(const kvm_irqchip& chip);
    Result<kvm_pit_state2> pit() const;
    Result<void> set_pit(const kvm_pit_state2& pit);
    Result<kvm_clock_data> clock() const;
    Result<void> set_clock(const kvm_clock_data& clock);

private:
    explicit Vm(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

} // namespace runvm::vmm::kvm
