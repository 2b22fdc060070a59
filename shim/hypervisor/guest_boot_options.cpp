// What every guest boot is told beyond its machine's basics, and why.
#include "shim/hypervisor/guest_boot_options.hpp"

#include "shim/hypervisor/host_tsc.hpp"

namespace runvm::shim {

std::string guest_boot_options(const config::RuntimeConfig& settings) {
    // Debian's kernel tests each crypto algorithm it registers at boot: about 0.5 s of a
    // 2.3 s cold start under TCG (docs/kernel.md, Figures). The guest's crypto is the
    // kernel's own, built by Debian and tested there; fips=1 runs the tests anyway.
    std::string options = "cryptomgr.notests";
    // Debian's kernel hangs in 25-50% of microvm boots calibrating the TSC (no HPET or PM
    // timer there); handing it the host's rate skips the calibration.
    if (auto khz = host_tsc_khz()) {
        options += " tsc_early_khz=" + std::to_string(*khz);
    }
    if (!settings.kernel_cmdline.empty()) {
        options += " " + settings.kernel_cmdline;
    }
    return options;
}

} // namespace runvm::shim
