#!/usr/bin/env bash
# The whole suite: installs what is missing, configures, builds, runs ctest.
# usage: scripts/test.sh [extra ctest args]   (BUILD_DIR, default build/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}

"$root/scripts/setup.sh"

jobs=$(nproc)
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRUNVM_FUZZERS=ON
cmake --build "$build" -j "$jobs"
cd "$build"
# The fuzz and VM tests are CPU-bound; running two at once on CI's two cores is the limit.
ctest --output-on-failure -j "${CTEST_JOBS:-2}" "$@"
