// HypervisorBackend: one VM's hypervisor process, driven through the sandbox's phases. What is
// particular to a backend (its program, its files, its logs, how guest RAM reaches it) is in
// its folder (qemu/, vmm/); the sandbox asks through this interface.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "base/result.hpp"
#include "shim/config/runtime_config.hpp"
#include "shim/hypervisor/vm_config.hpp"

namespace runvm::shim {

class HypervisorBackend {
public:
    virtual ~HypervisorBackend() = default;

    virtual std::string name() const = 0;
    // The program it runs: the one `settings.paths` names for it.
    virtual std::string program(const config::RuntimeConfig& settings) const = 0;
    // Checks the inputs and builds the command line (and config file) without starting.
    virtual Result<void> prepare(const VmConfig& config) = 0;
    // The argv prepare() built, for logs and tests.
    virtual const std::vector<std::string>& command() const = 0;
    // The program's stdout and stderr, whose last line names why it ended; empty before
    // prepare().
    virtual const std::string& log_path() const = 0;
    // Every file prepare() put in the work directory (its log, its config): kept with a failed
    // start's logs, removed with the VM.
    virtual const std::vector<std::string>& work_files() const = 0;
    virtual Result<void> start() = 0;
    // The raw wait status once the hypervisor exited; nullopt after `timeout`.
    virtual Result<std::optional<int>> wait(std::chrono::milliseconds timeout) = 0;
    // SIGTERM, SIGKILL after `grace` (at once when it is 0), reaped. Idempotent.
    virtual void stop(std::chrono::milliseconds grace) = 0;
    virtual pid_t pid() const = 0;
};

// `automatic` resolves to kvm when /dev/kvm opens read-write and the CPU has hardware
// virtualization (vmx or svm in /proc/cpuinfo), else qemu; the reason is logged and returned
// in `why`.
config::Hypervisor resolve_hypervisor(config::Hypervisor requested, std::string* why);

// The rule behind `automatic`. kvm_open_errno: 0 when /dev/kvm opened, else open's errno;
// cpu_flags: the "flags" line of /proc/cpuinfo. A /dev/kvm without vmx or svm is a
// paging-based KVM (kvm_pvm, as on some cloud VMs): it runs small guests, but an unmodified
// Linux guest 50-100x slower than native and it stops on instructions it cannot emulate,
// so the guest never reaches the agent; QEMU with TCG boots it in about a second.
config::Hypervisor choose_automatic(int kvm_open_errno, std::string_view cpu_flags,
                                    std::string* why);

// The backend for `requested`, `automatic` resolved first (resolve_hypervisor, `why`).
std::unique_ptr<HypervisorBackend> make_backend(config::Hypervisor requested,
                                                std::string* why = nullptr);

} // namespace runvm::shim
