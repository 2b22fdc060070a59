// Ioctl numbers for KVM structures that end in a flexible array. linux-libc-dev 6.1
// declares those arrays with __DECLARE_FLEX_ARRAY, which in C++ adds a 1-byte empty
// struct: sizeof and the array offset then differ from the kernel's (12 instead of 8), so
// the header's own ioctl numbers are refused with EINVAL. These use the C layout.
#pragma once

#include <cstdint>

#include <linux/kvm.h>
#include <sys/ioctl.h>

namespace runvm::vmm::kvm::abi {

struct ArrayHeader { // kvm_cpuid2 and kvm_msrs: a count, padding, then the entries
    uint32_t count;
    uint32_t padding;
};
static_assert(sizeof(ArrayHeader) == 8);
static_assert(sizeof(kvm_cpuid_entry2) == 40 && sizeof(kvm_msr_entry) == 16);

inline constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, ArrayHeader);
inline constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, ArrayHeader);
inline constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, ArrayHeader);
// kvm_xsave: the 4 KiB legacy XSAVE area; the header's flexible `extra` (KVM_GET_XSAVE2's
// larger buffers) changes its C++ size the same way.
struct Xsave {
    uint32_t region[1024];
};
static_assert(sizeof(Xsave) == 4096);
inline constexpr unsigned long kGetXsave = _IOR(KVMIO, 0xa4, Xsave);
inline constexpr unsigned long kSetXsave = _IOW(KVMIO, 0xa5, Xsave);
inline constexpr unsigned long kGetMsrs = _IOWR(KVMIO, 0x88, ArrayHeader);
inline constexpr unsigned long kGetCpuid2 = _IOWR(KVMIO, 0x91, ArrayHeader);
// kvm_msr_list: a count, then the indices (no padding).
inline constexpr unsigned long kGetMsrIndexList = _IOWR(KVMIO, 0x02, uint32_t);

} // namespace runvm::vmm::kvm::abi
