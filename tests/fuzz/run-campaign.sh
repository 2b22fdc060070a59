#!/usr/bin/env bash
# One long libFuzzer campaign over a scratch copy of a target's seeds, single process, niced.
# usage: run-campaign.sh BINARY SEED_DIR RUNS WORK_DIR
# Leaves WORK_DIR/corpus (seeds plus what the run found), WORK_DIR/log and crash-* artifacts,
# and prints the final stats with the wall time. New inputs go back into the seeds with
#   BINARY -merge=1 SEED_DIR WORK_DIR/corpus
# -close_fd_mask=3: the code under test logs a line per refused input, which would fill the
# disk; libFuzzer's and the sanitizers' reports keep their own fd. UBSan halts: undefined
# behaviour counts as a crash, not as a line in the log.
set -euo pipefail
bin=$1 seeds=$2 runs=$3 work=$4
[ -x "$bin" ] || { echo "fuzz target $bin was not built" >&2; exit 1; }
mkdir -p "$work/corpus"
cp -r "$seeds"/. "$work/corpus/"
start=$(date +%s)
rc=0
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 nice -n 19 "$bin" -runs="$runs" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -close_fd_mask=3 \
    -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1 || rc=$?
end=$(date +%s)
grep -E '^stat::|^Done|ERROR|SUMMARY' "$work/log" || true
echo "wall_seconds: $((end - start)) exit: $rc"
exit "$rc"
