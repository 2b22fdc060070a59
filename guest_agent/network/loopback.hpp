// lo up in the guest's network namespace: every container runs there (docs/networking.md).
#pragma once

#include "base/result.hpp"

namespace runvm::agent::net {

// The kernel gives lo 127.0.0.1 and ::1 when it goes up.
Result<void> bring_up_loopback();

} // namespace runvm::agent::net
