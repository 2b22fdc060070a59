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

} // namespace runvm::vmm::kvm::abi
