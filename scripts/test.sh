#!/usr/bin/env bash
# The whole suite: installs what is missing, configures, builds, runs ctest.
# usage: scripts/test.sh [extra ctest args]   (BUILD_DIR, default build/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}

# Each phase's length, for keeping the CI run inside its time budget.
t0=$SECONDS
phase() { echo "test.sh: $1 after $((SECONDS - t0)) s"; }
"$root/scripts/setup.sh"
phase "setup done"

jobs=$(nproc)
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRUNVM_FUZZERS=ON
cmake --build "$build" -j "$jobs"
phase "build done"
cd "$build"
# The fuzz and VM tests are CPU-bound; running two at once on CI's two cores is the limit.
status=0
ctest --output-on-failure -j "${CTEST_JOBS:-2}" "$@" || status=$?
phase "ctest done"
exit $status
