// Dropping every capability (bounding, ambient, effective, permitted, inheritable) and
// setting no_new_privs, so the broker keeps nothing after setup.
#pragma once

#include "base/result.hpp"

namespace runvm::broker {

// Per-thread in Linux: call before starting device threads so they inherit the empty sets.
Result<void> drop_all_capabilities();

} // namespace runvm::broker
