// Poweroff as PID 1: the kernel ends the VM (ACPI S5, or reboot=t with -no-reboot).
#include "guest_agent/pid1/power.hpp"

#include <csignal>
#include <thread>

#include <sys/reboot.h>
#include <unistd.h>

namespace runvm::agent {

[[noreturn]] void power_off() {
    ::kill(-1, SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::kill(-1, SIGKILL);
    ::sync();
    ::reboot(RB_POWER_OFF);
    // reboot only fails without CAP_SYS_BOOT; PID 1 must not exit (the kernel would panic
    // with a less useful message), so it stops here.
    for (;;) {
        ::pause();
    }
}

} // namespace runvm::agent
