// runvm-vmm's command line: --config names a MachineConfig document (vmm.json, docs/vmm.md),
// every other flag sets one field of that same MachineConfig over the document.
#pragma once

#include <variant>

#include "vmm/machine/config.hpp"

namespace runvm::vmm {

// The validated MachineConfig, or the status to exit with once the reason is printed: 0 after
// --help, CLI11's own status for a malformed command line, kExitUsage for a bad document or
// value.
std::variant<MachineConfig, int> parse_command_line(int argc, const char* const* argv);

} // namespace runvm::vmm
