// /dev/kvm: version and capability checks, system ioctls.
#include "vmm/kvm/kvm.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <sys/ioctl.h>

#include "vmm/kvm/abi.hpp"

namespace runvm::vmm::kvm {

const std::vector<Capability>& required_capabilities() {
    static const std::vector<Capability> caps = {
        {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
        {KVM_CAP_HLT, "KVM_CAP_HLT"},
        {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
        {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
        {KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR"},
        {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
        {KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
        {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
        {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
        {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
        {KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE"},
    };
    return caps;
}

Result<Kvm> Kvm::open(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) {
        return Err(Error::from_errno("open " + path));
    }
    const int version = ::ioctl(fd.get(), KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) {
        return Err(Error::msg("KVM_GET_API_VERSION " + path + ": " + std::to_string(version) +
                              ", want " + std::to_string(KVM_API_VERSION)));
    }
    Kvm kvm(std::move(fd));
    for (const auto& cap : required_capabilities()) {
        RUNVM_ASSIGN_OR_RETURN(const int have, kvm.check_extension(cap.id));
        if (have <= 0) {
            return Err(Error::msg(path + ": required capability " + cap.name + " missing"));
        }
    }
    return kvm;
}

Result<int> Kvm::check_extension(int cap) const {
    const int r = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap);
    if (r < 0) {
        return Err(Error::from_errno("KVM_CHECK_EXTENSION " + std::to_string(cap)));
    }
    return r;
}

Result<uint64_t> Kvm::vcpu_mmap_size() const {
    const int r = ::ioctl(fd_.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
    if (r <= 0) {
        return Err(Error::from_errno("KVM_GET_VCPU_MMAP_SIZE"));
    }
    return static_cast<uint64_t>(r);
}

Result<std::vector<kvm_cpuid_entry2>> read_cpuid_list(int fd, unsigned long request,
                                                      const std::string& what) {
    // kvm_cpuid2 ends in a flexible array; KVM reports E2BIG until the buffer is enough.
    for (uint32_t n = 128; n <= 4096; n *= 2) {
        std::vector<uint8_t> buf(sizeof(abi::ArrayHeader) + n * sizeof(kvm_cpuid_entry2));
        abi::ArrayHeader h{n, 0};
        std::memcpy(buf.data(), &h, sizeof h);
        if (::ioctl(fd, request, buf.data()) == 0) {
            std::memcpy(&h, buf.data(), sizeof h);
            std::vector<kvm_cpuid_entry2> entries(std::min(h.count, n));
            std::memcpy(entries.data(), buf.data() + sizeof h,
                        entries.size() * sizeof(kvm_cpuid_entry2));
            return entries;
        }
        if (errno != E2BIG) {
            return Err(Error::from_errno(what));
        }
    }
    return Err(Error::msg(what + ": more than 4096 entries"));
}

Result<std::vector<kvm_cpuid_entry2>> Kvm::supported_cpuid() const {
    return read_cpuid_list(fd_.get(), abi::kGetSupportedCpuid, "KVM_GET_SUPPORTED_CPUID");
}

Result<std::vector<uint32_t>> Kvm::msr_index_list() const {
    for (uint32_t n = 256; n <= 16384; n *= 4) {
        std::vector<uint32_t> buf(1 + n);
        buf[0] = n;
        if (::ioctl(fd_.get(), abi::kGetMsrIndexList, buf.data()) == 0) {
            return std::vector<uint32_t>(buf.begin() + 1, buf.begin() + 1 + std::min(buf[0], n));
        }
        if (errno != E2BIG) {
            return Err(Error::from_errno("KVM_GET_MSR_INDEX_LIST"));
        }
    }
    return Err(Error::msg("KVM_GET_MSR_INDEX_LIST: more than 16384 MSRs"));
}

} // namespace runvm::vmm::kvm
