#!/usr/bin/env bash
# Benchmark: create-to-exec of one container in host mode, runvm's launcher (runvm-launch run)
# beside `runc run`, on the same busybox bundle (process: /bin/true), in one run.
# Prints the median of N runs each and the ratio launcher/runc (goal: <= 1.0).
# usage: scripts/bench/agent.sh [BUILD_DIR] [N]   (root; runc and busybox needed)
set -euo pipefail
# Every container boots its own VM here unless asked (template: auto would start the later
# ones in pooled VMs booted in the background, docs/design/fast-start.md).
export RUNVM_TEMPLATE=${RUNVM_TEMPLATE:-off}
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
n=${2:-30}
launch=$build/guest_agent/runvm-launch
[ "$(id -u)" = 0 ] || { echo "agent bench: needs root" >&2; exit 77; }
command -v runc >/dev/null || { echo "agent bench: no runc" >&2; exit 77; }
[ -x "$launch" ] || { echo "agent bench: build runvm-launch first ($launch)" >&2; exit 1; }
work=$(mktemp -d /tmp/runvm-agent-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$here/tests/diff/make-rootfs.sh" "$work/rootfs"
(cd "$work" && runc spec)
python3 - "$work/config.json" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["process"]["terminal"] = False; c["process"]["args"] = ["/bin/true"]
json.dump(c, open(p, "w"), indent=1)
PY
median_ms() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m/1e6}'; }
time_runs() { # $1: label, rest: command; one warm-up, then n timed runs
  "${@:2}" bench-warm >/dev/null 2>&1 || true
  for i in $(seq "$n"); do
    s=$(date +%s%N); "${@:2}" "bench-$1-$i" >/dev/null 2>&1; e=$(date +%s%N)
    echo $((e - s))
  done
}
# Interleave the two so load from other work on the machine hits both alike.
: > "$work/runc.ns"; : > "$work/agent.ns"
for round in 1 2; do
  time_runs runc-$round runc run -b "$work" >> "$work/runc.ns"
  time_runs agent-$round "$launch" run -b "$work" >> "$work/agent.ns"
done
runc_ms=$(median_ms < "$work/runc.ns")
agent_ms=$(median_ms < "$work/agent.ns")
ratio=$(awk -v a="$agent_ms" -v r="$runc_ms" 'BEGIN {printf "%.2f", a / r}')
echo "runc run (median of $((2 * n))):         ${runc_ms} ms"
echo "runvm-launch run (median of $((2 * n))): ${agent_ms} ms"
echo "ratio launcher/runc: ${ratio} (goal <= 1.0)"
