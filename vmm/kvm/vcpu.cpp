// KVM vCPU ioctls.
#include "vmm/kvm/vcpu.hpp"

#include <cstring>

#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vmm/kvm/abi.hpp"

namespace runvm::vmm::kvm {

namespace {

std::string what(const char* ioctl_name, uint32_t id) {
    return std::string(ioctl_name) + " vcpu " + std::to_string(id);
}

} // namespace

Result<Vcpu> Vcpu::create(const Kvm& kvm, const Vm& vm, uint32_t id) {
    UniqueFd fd(::ioctl(vm.fd(), KVM_CREATE_VCPU, static_cast<unsigned long>(id)));
    if (!fd) {
        return Err(Error::from_errno(what("KVM_CREATE_VCPU", id)));
    }
    RUNVM_ASSIGN_OR_RETURN(const uint64_t size, kvm.vcpu_mmap_size());
    RUNVM_ASSIGN_OR_RETURN(auto run, Mapping::map(size, PROT_READ | PROT_WRITE, MAP_SHARED,
                                                  fd.get(), 0, "kvm_run page"));
    return Vcpu(id, std::move(fd), std::move(run));
}

Result<void> Vcpu::run() {
    if (::ioctl(fd_.get(), KVM_RUN, 0) != 0) {
        if (errno == EINTR || errno == EAGAIN) {
            run_page()->exit_reason = KVM_EXIT_INTR;
            return Ok();
        }
        return Err(Error::from_errno(what("KVM_RUN", id_)));
    }
    return Ok();
}

Result<kvm_regs> Vcpu::regs() const {
    kvm_regs r{};
    if (::ioctl(fd_.get(), KVM_GET_REGS, &r) != 0) {
        return Err(Error::from_errno(what("KVM_GET_REGS", id_)));
    }
    return r;
}

Result<void> Vcpu::set_regs(const kvm_regs& r) {
    if (::ioctl(fd_.get(), KVM_SET_REGS, &r) != 0) {
        return Err(Error::from_errno(what("KVM_SET_REGS", id_)));
    }
    return Ok();
}

Result<kvm_sregs> Vcpu::sregs() const {
    kvm_sregs s{};
    if (::ioctl(fd_.get(), KVM_GET_SREGS, &s) != 0) {
        return Err(Error::from_errno(what("KVM_GET_SREGS", id_)));
    }
    return s;
}

Result<void> Vcpu::set_sregs(const kvm_sregs& s) {
    if (::ioctl(fd_.get(), KVM_SET_SREGS, &s) != 0) {
        return Err(Error::from_errno(what("KVM_SET_SREGS", id_)));
    }
    return Ok();
}

Result<void> Vcpu::set_fpu(const kvm_fpu& fpu) {
    if (::ioctl(fd_.get(), KVM_SET_FPU, &fpu) != 0) {
        return Err(Error::from_errno(what("KVM_SET_FPU", id_)));
    }
    return Ok();
}

Result<void> Vcpu::set_cpuid(const std::vector<kvm_cpuid_entry2>& entries) {
    std::vector<uint8_t> buf(sizeof(abi::ArrayHeader) + entries.size() * sizeof(kvm_cpuid_entry2));
    const abi::ArrayHeader h{static_cast<uint32_t>(entries.size()), 0};
    std::memcpy(buf.data(), &h, sizeof h);
    std::memcpy(buf.data() + sizeof h, entries.data(), entries.size() * sizeof(kvm_cpuid_entry2));
    if (::ioctl(fd_.get(), abi::kSetCpuid2, buf.data()) != 0) {
        return Err(Error::from_errno(what("KVM_SET_CPUID2", id_)));
    }
    return Ok();
}

Result<void> Vcpu::set_msrs(const std::vector<kvm_msr_entry>& msrs) {
    std::vector<uint8_t> buf(sizeof(abi::ArrayHeader) + msrs.size() * sizeof(kvm_msr_entry));
    const abi::ArrayHeader h{static_cast<uint32_t>(msrs.size()), 0};
    std::memcpy(buf.data(), &h, sizeof h);
    std::memcpy(buf.data() + sizeof h, msrs.data(), msrs.size() * sizeof(kvm_msr_entry));
    // KVM_SET_MSRS returns how many it set; stopping short names the first refused MSR.
    const int n = ::ioctl(fd_.get(), abi::kSetMsrs, buf.data());
    if (n < 0) {
        return Err(Error::from_errno(what("KVM_SET_MSRS", id_)));
    }
    if (static_cast<size_t>(n) != msrs.size()) {
        return Err(Error::msg(what("KVM_SET_MSRS", id_) + ": MSR " +
                              hex(msrs[static_cast<size_t>(n)].index) + " refused"));
    }
    return Ok();
}

Result<kvm_lapic_state> Vcpu::lapic() const {
    kvm_lapic_state l{};
    if (::ioctl(fd_.get(), KVM_GET_LAPIC, &l) != 0) {
        return Err(Error::from_errno(what("KVM_GET_LAPIC", id_)));
    }
    return l;
}

Result<void> Vcpu::set_lapic(const kvm_lapic_state& l) {
    if (::ioctl(fd_.get(), KVM_SET_LAPIC, &l) != 0) {
        return Err(Error::from_errno(what("KVM_SET_LAPIC", id_)));
    }
    return Ok();
}

} // namespace runvm::vmm::kvm
