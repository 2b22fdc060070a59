// The guest's CPUID: KVM_GET_SUPPORTED_CPUID passed through a template that fills in the
// topology for each vCPU and hides the features named in a mask list.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <linux/kvm.h>

#include "base/result.hpp"

namespace runvm::vmm::x86_64 {

enum class CpuidReg { eax, ebx, ecx, edx };

struct CpuidFeature {
    const char* name;
    uint32_t leaf;
    uint32_t subleaf;
    CpuidReg reg;
    uint32_t bit;
};

// Every feature name the mask list accepts (docs/vmm.md lists them).
const std::vector<CpuidFeature>& known_cpuid_features();

// The default mask: no nested virtualization, no MONITOR/MWAIT (the guest must HLT).
std::vector<std::string> default_cpuid_mask();
// kvm_pvm (paging-based nesting) cannot emulate what these lead the guest to use:
// seen failing on lock cmpxchg16b (cx16), then xrstor (xsave and what depends on it), LA57.
std::vector<std::string> kvm_pvm_cpuid_mask();

// Checks names first: an unknown name is an error, not silently ignored.
Result<void> validate_cpuid_mask(const std::vector<std::string>& mask);

// What KVM offers beyond KVM_GET_SUPPORTED_CPUID, from KVM_CHECK_EXTENSION.
struct CpuidHostCaps {
    // KVM_CAP_TSC_DEADLINE_TIMER: the in-kernel LAPIC emulates TSC-deadline mode, but
    // KVM never sets CPUID.1:ECX[24] in the supported list; the VMM must (QEMU and
    // Firecracker do). Without it Linux calibrates the LAPIC timer by polling for 100 ms.
    bool tsc_deadline_timer = false;
};

// The CPUID entries for vCPU `id` of `count`.
std::vector<kvm_cpuid_entry2> guest_cpuid(const std::vector<kvm_cpuid_entry2>& supported,
                                          uint32_t id, uint32_t count,
                                          const std::vector<std::string>& mask,
                                          const CpuidHostCaps& host = {});

} // namespace runvm::vmm::x86_64
