// Kvm: the /dev/kvm system fd. Opening checks API version 12 and every capability the
// VMM relies on, naming the first one missing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <linux/kvm.h>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace runvm::vmm::kvm {

struct Capability {
    int id;
    const char* name;
};

// The capabilities runvm-vmm cannot run without.
const std::vector<Capability>& required_capabilities();

// A kvm_cpuid2 list read by `request` on `fd` (KVM_GET_SUPPORTED_CPUID on /dev/kvm,
// KVM_GET_CPUID2 on a vCPU): the buffer grows while KVM answers E2BIG; `what` names the call.
Result<std::vector<kvm_cpuid_entry2>> read_cpuid_list(int fd, unsigned long request,
                                                      const std::string& what);

class Kvm {
public:
    static Result<Kvm> open(const std::string& path = "/dev/kvm");

    int fd() const { return fd_.get(); }
    Result<int> check_extension(int cap) const;
    Result<uint64_t> vcpu_mmap_size() const;
    Result<std::vector<kvm_cpuid_entry2>> supported_cpuid() const;
    // The MSRs KVM saves and restores for a vCPU (KVM_GET_MSR_INDEX_LIST): a snapshot's list.
    Result<std::vector<uint32_t>> msr_index_list() const;

private:
    explicit Kvm(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

} // namespace runvm::vmm::kvm
