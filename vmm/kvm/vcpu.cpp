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

template <typename T>
Result<T> get(int fd, unsigned long request, const char* name, uint32_t id) {
    T value{};
    if (::ioctl(fd, request, &value) != 0) {
        return Err(Error::from_errno(what(name, id)));
    }
    return value;
}

template <typename T>
Result<void> set(int fd, unsigned long request, const T& value, const char* name, uint32_t id) {
    if (::ioctl(fd, request, &value) != 0) {
        return Err(Error::from_errno(what(name, id)));
    }
    return Ok();
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

Result<std::vector<kvm_cpuid_entry2>> Vcpu::cpuid() const {
    return read_cpuid_list(fd_.get(), abi::kGetCpuid2, what("KVM_GET_CPUID2", id_));
}

Result<std::vector<kvm_msr_entry>> Vcpu::msrs(const std::vector<uint32_t>& indices) const {
    std::vector<uint8_t> buf(sizeof(abi::ArrayHeader) + indices.size() * sizeof(kvm_msr_entry));
    const abi::ArrayHeader h{static_cast<uint32_t>(indices.size()), 0};
    std::memcpy(buf.data(), &h, sizeof h);
    for (size_t i = 0; i < indices.size(); ++i) {
        kvm_msr_entry e{};
        e.index = indices[i];
        std::memcpy(buf.data() + sizeof h + i * sizeof e, &e, sizeof e);
    }
    // KVM_GET_MSRS returns how many it read: all of them, or the first it could not is named.
    const int n = ::ioctl(fd_.get(), abi::kGetMsrs, buf.data());
    if (n < 0) {
        return Err(Error::from_errno(what("KVM_GET_MSRS", id_)));
    }
    if (static_cast<size_t>(n) != indices.size()) {
        return Err(Error::msg(what("KVM_GET_MSRS", id_) + ": MSR " +
                              hex(indices[static_cast<size_t>(n)]) + " unreadable"));
    }
    std::vector<kvm_msr_entry> out(indices.size());
    std::memcpy(out.data(), buf.data() + sizeof h, out.size() * sizeof(kvm_msr_entry));
    return out;
}

Result<abi::Xsave> Vcpu::xsave() const {
    return get<abi::Xsave>(fd_.get(), abi::kGetXsave, "KVM_GET_XSAVE", id_);
}
Result<void> Vcpu::set_xsave(const abi::Xsave& v) {
    return set(fd_.get(), abi::kSetXsave, v, "KVM_SET_XSAVE", id_);
}
Result<kvm_xcrs> Vcpu::xcrs() const {
    return get<kvm_xcrs>(fd_.get(), KVM_GET_XCRS, "KVM_GET_XCRS", id_);
}
Result<void> Vcpu::set_xcrs(const kvm_xcrs& v) {
    return set(fd_.get(), KVM_SET_XCRS, v, "KVM_SET_XCRS", id_);
}
Result<kvm_vcpu_events> Vcpu::events() const {
    return get<kvm_vcpu_events>(fd_.get(), KVM_GET_VCPU_EVENTS, "KVM_GET_VCPU_EVENTS", id_);
}
Result<void> Vcpu::set_events(const kvm_vcpu_events& v) {
    return set(fd_.get(), KVM_SET_VCPU_EVENTS, v, "KVM_SET_VCPU_EVENTS", id_);
}
Result<kvm_mp_state> Vcpu::mp_state() const {
    return get<kvm_mp_state>(fd_.get(), KVM_GET_MP_STATE, "KVM_GET_MP_STATE", id_);
}
Result<void> Vcpu::set_mp_state(const kvm_mp_state& v) {
    return set(fd_.get(), KVM_SET_MP_STATE, v, "KVM_SET_MP_STATE", id_);
}
Result<kvm_debugregs> Vcpu::debugregs() const {
    return get<kvm_debugregs>(fd_.get(), KVM_GET_DEBUGREGS, "KVM_GET_DEBUGREGS", id_);
}
Result<void> Vcpu::set_debugregs(const kvm_debugregs& v) {
    return set(fd_.get(), KVM_SET_DEBUGREGS, v, "KVM_SET_DEBUGREGS", id_);
}

Result<void> Vcpu::complete_pending_io() {
    run_page()->immediate_exit = 1;
    const int rc = ::ioctl(fd_.get(), KVM_RUN, 0);
    const int err = errno;
    run_page()->immediate_exit = 0;
    if (rc == 0 || err != EINTR) {
        return Err(Error::with_errno(rc == 0 ? EPROTO : err,
                                     what("KVM_RUN (immediate_exit, to complete I/O)", id_)));
    }
    return Ok();
}

} // namespace runvm::vmm::kvm
