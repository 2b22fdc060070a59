// Guest shutdown: stop every process, sync, power off (reboot(2)); never returns.
#pragma once

namespace runvm::agent {

// SIGTERM then SIGKILL to everything else, sync, reboot(RB_POWER_OFF). Only for PID 1.
[[noreturn]] void power_off();

} // namespace runvm::agent
