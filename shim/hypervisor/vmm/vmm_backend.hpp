// VmmBackend: runvm-vmm on KVM, configured by a JSON file in the VM's work directory.
#pragma once

#include <nlohmann/json.hpp>

#include "shim/hypervisor/process_backend.hpp"
#include "vmm/machine/config.hpp"

namespace runvm::shim {

class VmmBackend : public ProcessBackend {
public:
    std::string name() const override { return "runvm-vmm"; }
    // paths.vmm; its default name is found beside runvm or in the build tree first.
    std::string program(const config::RuntimeConfig& settings) const override;
    Result<void> prepare(const VmConfig& config) override;

    // The MachineConfig runvm-vmm reads from vmm.json (see docs/vmm.md): the VM's settings and
    // the broker's devices.
    static vmm::MachineConfig machine_config(const VmConfig& config);
    // That document as JSON, for tests.
    static nlohmann::json make_config(const VmConfig& config);
};

} // namespace runvm::shim
