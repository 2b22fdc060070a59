// The exit status of runvm-vmm, which the sandbox library reads (docs/vmm.md).
#pragma once

namespace runvm::vmm {

enum ExitStatus : int {
    kExitGuestShutdown = 0, // guest reboot/poweroff: i8042 reset or a KVM system event
    kExitVmmError = 1,      // setup failed or a KVM call failed
    kExitUsage = 2,         // bad flags or config
    kExitTripleFault = 3,   // KVM_EXIT_SHUTDOWN: the guest reset by triple fault or crashed
    kExitGuestFault = 4,    // KVM could not run the guest (internal error, failed entry)
    kExitSignalBase = 128,  // + the signal that stopped the VM (SIGTERM: 143)
};

} // namespace runvm::vmm
