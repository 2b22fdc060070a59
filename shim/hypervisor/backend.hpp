// HypervisorBackend: one VM's hypervisor process, driven through the sandbox's phases.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "base/result.hpp"
#include "shim/hypervisor/vm_config.hpp"

namespace runvm::shim {

class HypervisorBackend {
public:
    virtual ~HypervisorBackend() = default;

    virtual std::string name() const = 0;
    // Checks the inputs and builds the command line (and config file) without starting.
    virtual Result<void> prepare(const VmConfig& config) = 0;
    // The argv prepare() built, for logs and tests.
    virtual const std::vector<std::string>& command() const = 0;
    virtual Result<void> start() = 0;
    // The raw wait status once the hypervisor exited; nullopt after `timeout`.
    virtual Result<std::optional<int>> wait(std::chrono::milliseconds timeout) = 0;
    // SIGTERM, SIGKILL after `grace` (at once when it is 0), reaped. Idempotent.
    virtual void stop(std::chrono::milliseconds grace) = 0;
    virtual pid_t pid() const = 0;
};

enum class HypervisorKind { automatic, qemu, kvm };

Result<HypervisorKind> parse_hypervisor_kind(std::string_view text);

// `automatic` resolves to kvm when /dev/kvm opens read-write, else qemu; the reason is
// logged and returned in `why`.
HypervisorKind resolve_hypervisor(HypervisorKind requested, std::string* why);

std::unique_ptr<HypervisorBackend> make_backend(HypervisorKind resolved);

} // namespace runvm::shim
