#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time over a scratch copy of its seed corpus.
# usage: run-fuzzer.sh BINARY SEED_DIR SECONDS
set -euo pipefail
bin=$1 seeds=$2 seconds=$3
[ -x "$bin" ] || { echo "fuzz target $bin was not built" >&2; exit 1; }
[ -d "$seeds" ] || { echo "seed corpus $seeds is missing" >&2; exit 1; }
work=$(mktemp -d /tmp/runvm-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
cp -r "$seeds"/. "$work/corpus/"
cd "$work"
# The targets are built with ASan and UBSan (cmake/RunvmTargets.cmake). UBSan only prints a
# report and goes on unless told to halt, and a report must fail the test; ASan halts on its
# first report already, said here so it stays so. The caller's options come last and win.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS="halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# -timeout: one input taking longer is a hang; -rss_limit_mb: a leak or blow-up fails.
# Not exec: the EXIT trap has to run to remove the scratch corpus.
rc=0
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="${TMPDIR:-/tmp}/runvm-fuzz-crash-$(basename "$bin")-" corpus || rc=$?
exit "$rc"
