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

private:
    explicit Vm(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

} // namespace runvm::vmm::kvm
