// KVM VM ioctls.
#include "vmm/kvm/vm.hpp"

#include <sys/ioctl.h>

#include "vmm/memory/layout.hpp"

namespace runvm::vmm::kvm {

Result<Vm> Vm::create(const Kvm& kvm) {
    UniqueFd fd;
    // KVM_CREATE_VM fails with EINTR when a signal arrives during its setup.
    do {
        fd.reset(::ioctl(kvm.fd(), KVM_CREATE_VM, 0));
    } while (!fd && errno == EINTR);
    if (!fd) {
        return Err(Error::from_errno("KVM_CREATE_VM"));
    }
    if (::ioctl(fd.get(), KVM_SET_TSS_ADDR, layout::kTssAddr) != 0) {
        return Err(Error::from_errno("KVM_SET_TSS_ADDR " + hex(layout::kTssAddr)));
    }
    uint64_t identity = layout::kIdentityMapAddr;
    if (::ioctl(fd.get(), KVM_SET_IDENTITY_MAP_ADDR, &identity) != 0) {
        return Err(Error::from_errno("KVM_SET_IDENTITY_MAP_ADDR " + hex(identity)));
    }
    if (::ioctl(fd.get(), KVM_CREATE_IRQCHIP, 0) != 0) {
        return Err(Error::from_errno("KVM_CREATE_IRQCHIP"));
    }
    kvm_pit_config pit{};
    pit.flags = KVM_PIT_SPEAKER_DUMMY;
    if (::ioctl(fd.get(), KVM_CREATE_PIT2, &pit) != 0) {
        return Err(Error::from_errno("KVM_CREATE_PIT2"));
    }
    return Vm(std::move(fd));
}

Result<void> Vm::map_memory(const GuestMemory& mem) {
    uint32_t slot = 0;
    for (const auto& r : mem.regions()) {
        kvm_userspace_memory_region region{};
        region.slot = slot;
        region.guest_phys_addr = r.gpa;
        region.memory_size = r.size;
        region.userspace_addr = reinterpret_cast<uint64_t>(r.host);
        if (::ioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, &region) != 0) {
            return Err(Error::from_errno("KVM_SET_USER_MEMORY_REGION slot " + std::to_string(slot) +
                                         " at " + hex(r.gpa)));
        }
        ++slot;
    }
    return Ok();
}

Result<void> Vm::register_irqfd(int event_fd, uint32_t gsi) {
    kvm_irqfd irqfd{};
    irqfd.fd = static_cast<uint32_t>(event_fd);
    irqfd.gsi = gsi;
    if (::ioctl(fd_.get(), KVM_IRQFD, &irqfd) != 0) {
        return Err(Error::from_errno("KVM_IRQFD gsi " + std::to_string(gsi)));
    }
    return Ok();
}

Result<void> Vm::register_ioeventfd(int event_fd, uint64_t addr, uint32_t len, uint64_t datamatch,
                                    bool pio) {
    kvm_ioeventfd io{};
    io.addr = addr;
    io.len = len;
    io.fd = event_fd;
    io.datamatch = datamatch;
    io.flags = KVM_IOEVENTFD_FLAG_DATAMATCH | (pio ? KVM_IOEVENTFD_FLAG_PIO : 0u);
    if (::ioctl(fd_.get(), KVM_IOEVENTFD, &io) != 0) {
        return Err(Error::from_errno("KVM_IOEVENTFD " + hex(addr) + " datamatch " +
                                     std::to_string(datamatch)));
    }
    return Ok();
}

Result<void> Vm::set_irq_line(uint32_t gsi, bool level) {
    kvm_irq_level irq{};
    irq.irq = gsi;
    irq.level = level ? 1 : 0;
    if (::ioctl(fd_.get(), KVM_IRQ_LINE, &irq) != 0) {
        return Err(Error::from_errno("KVM_IRQ_LINE gsi " + std::to_string(gsi)));
    }
    return Ok();
}

Result<kvm_irqchip> Vm::irqchip(uint32_t chip_id) const {
    kvm_irqchip chip{};
    chip.chip_id = chip_id;
    if (::ioctl(fd_.get(), KVM_GET_IRQCHIP, &chip) != 0) {
        return Err(Error::from_errno("KVM_GET_IRQCHIP " + std::to_string(chip_id)));
    }
    return chip;
}

Result<void> Vm::set_irqchip(const kvm_irqchip& chip) {
    if (::ioctl(fd_.get(), KVM_SET_IRQCHIP, &chip) != 0) {
        return Err(Error::from_errno("KVM_SET_IRQCHIP " + std::to_string(chip.chip_id)));
    }
    return Ok();
}

Result<kvm_pit_state2> Vm::pit() const {
    kvm_pit_state2 pit{};
    if (::ioctl(fd_.get(), KVM_GET_PIT2, &pit) != 0) {
        return Err(Error::from_errno("KVM_GET_PIT2"));
    }
    return pit;
}

Result<void> Vm::set_pit(const kvm_pit_state2& pit) {
    if (::ioctl(fd_.get(), KVM_SET_PIT2, &pit) != 0) {
        return Err(Error::from_errno("KVM_SET_PIT2"));
    }
    return Ok();
}

Result<kvm_clock_data> Vm::clock() const {
    kvm_clock_data clock{};
    if (::ioctl(fd_.get(), KVM_GET_CLOCK, &clock) != 0) {
        return Err(Error::from_errno("KVM_GET_CLOCK"));
    }
    return clock;
}

Result<void> Vm::set_clock(const kvm_clock_data& clock) {
    if (::ioctl(fd_.get(), KVM_SET_CLOCK, &clock) != 0) {
        return Err(Error::from_errno("KVM_SET_CLOCK"));
    }
    return Ok();
}

} // namespace runvm::vmm::kvm
