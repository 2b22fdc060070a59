// CPUID template: topology per vCPU, hypervisor bit, TSC-deadline timer, feature masks.
#include "vmm/arch/x86_64/cpuid.hpp"

#include <algorithm>

namespace runvm::vmm::x86_64 {

namespace {

uint32_t& reg_of(kvm_cpuid_entry2& e, CpuidReg r) {
    switch (r) {
    case CpuidReg::eax:
        return e.eax;
    case CpuidReg::ebx:
        return e.ebx;
    case CpuidReg::ecx:
        return e.ecx;
    case CpuidReg::edx:
        break;
    }
    return e.edx;
}

const CpuidFeature* find_feature(const std::string& name) {
    for (const auto& f : known_cpuid_features()) {
        if (name == f.name) {
            return &f;
        }
    }
    return nullptr;
}

} // namespace

const std::vector<CpuidFeature>& known_cpuid_features() {
    static const std::vector<CpuidFeature> features = {
        {"monitor", 1, 0, CpuidReg::ecx, 3},
        {"vmx", 1, 0, CpuidReg::ecx, 5},
        {"cx16", 1, 0, CpuidReg::ecx, 13},
        {"pcid", 1, 0, CpuidReg::ecx, 17},
        {"x2apic", 1, 0, CpuidReg::ecx, 21},
        {"tsc_deadline", 1, 0, CpuidReg::ecx, 24},
        {"xsave", 1, 0, CpuidReg::ecx, 26},
        {"osxsave", 1, 0, CpuidReg::ecx, 27},
        {"avx", 1, 0, CpuidReg::ecx, 28},
        {"rdrand", 1, 0, CpuidReg::ecx, 30},
        {"avx2", 7, 0, CpuidReg::ebx, 5},
        {"invpcid", 7, 0, CpuidReg::ebx, 10},
        {"avx512f", 7, 0, CpuidReg::ebx, 16},
        {"rdseed", 7, 0, CpuidReg::ebx, 18},
        {"pku", 7, 0, CpuidReg::ecx, 3},
        {"waitpkg", 7, 0, CpuidReg::ecx, 5},
        {"la57", 7, 0, CpuidReg::ecx, 16},
        {"svm", 0x80000001, 0, CpuidReg::ecx, 2},
        {"pdpe1gb", 0x80000001, 0, CpuidReg::edx, 26},
        {"rdtscp", 0x80000001, 0, CpuidReg::edx, 27},
    };
    return features;
}

std::vector<std::string> default_cpuid_mask() {
    return {"vmx", "svm", "monitor"};
}

std::vector<std::string> kvm_pvm_cpuid_mask() {
    return {"vmx", "svm", "monitor", "la57", "cx16", "xsave", "osxsave", "avx", "avx2", "avx512f"};
}

Result<void> validate_cpuid_mask(const std::vector<std::string>& mask) {
    for (const auto& name : mask) {
        if (find_feature(name) == nullptr) {
            return Err(Error::msg("cpuid mask: unknown feature '" + name + "'"));
        }
    }
    return Ok();
}

std::vector<kvm_cpuid_entry2> guest_cpuid(const std::vector<kvm_cpuid_entry2>& supported,
                                          uint32_t id, uint32_t count,
                                          const std::vector<std::string>& mask,
                                          const CpuidHostCaps& host) {
    auto entries = supported;
    for (auto& e : entries) {
        if (e.function == 1) {
            // APIC id, logical processor count, CLFLUSH size 8 qwords; hypervisor present.
            e.ebx = (id << 24) | (std::min(count, 255u) << 16) | (8u << 8) | (e.ebx & 0xff);
            e.ecx |= 1u << 31;
            if (host.tsc_deadline_timer) {
                e.ecx |= 1u << 24; // before the mask, so "tsc_deadline" can still hide it
            }
            if (count > 1) {
                e.edx |= 1u << 28; // HTT: more than one logical processor
            }
        } else if (e.function == 0xb) {
            // Extended topology: SMT level of one thread, core level of `count` cores.
            e.edx = id;
            if (e.index == 0) {
                e.eax = 0;
                e.ebx = 1;
                e.ecx = (1u << 8) | e.index;
            } else if (e.index == 1) {
                uint32_t shift = 0;
                while ((1u << shift) < count) {
                    ++shift;
                }
                e.eax = shift;
                e.ebx = count;
                e.ecx = (2u << 8) | e.index;
            } else {
                e.eax = e.ebx = 0;
                e.ecx = e.index;
            }
        }
    }
    for (const auto& name : mask) {
        const CpuidFeature* f = find_feature(name);
        if (f == nullptr) {
            continue; // validate_cpuid_mask reported it
        }
        for (auto& e : entries) {
            if (e.function == f->leaf && e.index == f->subleaf) {
                reg_of(e, f->reg) &= ~(1u << f->bit);
            }
        }
    }
    if (std::find(mask.begin(), mask.end(), "xsave") != mask.end()) {
        // Without XSAVE the guest must not size an XSAVE area from leaf 0xd.
        entries.erase(std::remove_if(entries.begin(), entries.end(),
                                     [](const kvm_cpuid_entry2& e) { return e.function == 0xd; }),
                      entries.end());
    }
    return entries;
}

} // namespace runvm::vmm::x86_64
