// The one Reaper of a test binary (it reaps every child of the process), started by a
// global fixture before any test thread exists so SIGCHLD stays blocked everywhere.
#pragma once

#include "shim/containerd/reaper.hpp"

namespace runvm::containerd::test {

Reaper& reaper();

} // namespace runvm::containerd::test
