#!/usr/bin/env bash
# Benchmark: what sizing a VM from the spec costs (docs/resources.md). Cold start of
# `runvm run` of `true` with no limit vs with a 2 GiB memory limit and `--cpus 2` (a VM of
# base + 2 GiB: its RAM is touched lazily, so the start must not grow), runc beside them on
# the same bundle, interleaved, medians and ratios; then the host memory of one running
# container outside its guest RAM (VmRSS - RssShmem of the monitor, broker and hypervisor)
# and its host cgroup's usage. Prints markdown tables; NO_DOC=1 leaves docs alone, else the
# table between the resources-bench markers of docs/benchmarks.md is rewritten.
# usage: scripts/bench/resources.sh [BUILD_DIR] [N]   (root; runc, busybox-static, QEMU)
set -euo pipefail
# Every container boots its own VM here unless asked (template: auto would start the later
# ones in pooled VMs booted in the background, docs/design/fast-start.md).
export RUNVM_TEMPLATE=${RUNVM_TEMPLATE:-off}
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(readlink -f "${1:-$repo/build}")
n=${2:-10}
[ "$(id -u)" = 0 ] || { echo "resources bench: needs root" >&2; exit 77; }
command -v runc >/dev/null || { echo "resources bench: runc missing" >&2; exit 77; }
RUNVM=$build/shim/cli/runvm
tmp=$(mktemp -d /tmp/runvm-res-bench.XXXXXX)
cleanup() {
  for c in $("$RUNVM" --root "$tmp/state" list -q 2>/dev/null); do "$RUNVM" --root "$tmp/state" delete --force "$c"; done
  rmdir /sys/fs/cgroup/*/runvm-bench-$$/* /sys/fs/cgroup/*/runvm-bench-$$ 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
strip -o "$tmp/runvm-agent" "$build/guest_agent/runvm-agent"
image=$("$repo/scripts/build-guest-image.sh" --agent "$tmp/runvm-agent" --out "$tmp/image" \
  --kernel "${RUNVM_GUEST_KERNEL:-cloud}")
export RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio
export RUNVM_BROKER=$build/broker/runvm-broker RUNVM_HYPERVISOR=${RUNVM_HYPERVISOR:-qemu}
bundle() { # DIR ARGS_JSON LIMITS(none|mem|cpu|both)
  mkdir -p "$1/rootfs/bin"
  cp /bin/busybox "$1/rootfs/bin/"
  for a in sh true sleep; do ln -sf busybox "$1/rootfs/bin/$a"; done
  (cd "$1" && "$RUNVM" spec)
  python3 - "$1/config.json" "$2" "$3" "$$" <<'PY'
import json, sys
p, args, limits, tag = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
c = json.load(open(p))
c["process"]["terminal"] = False; c["process"]["args"] = args
c["linux"]["cgroupsPath"] = "/runvm-bench-%s/%s" % (tag, p.split("/")[-2])
if limits in ("mem", "both"):
    c["linux"]["resources"]["memory"] = {"limit": 2 << 30}
if limits in ("cpu", "both"):
    c["linux"]["resources"]["cpu"] = {"quota": 200000, "period": 100000}
json.dump(c, open(p, "w"))
PY
}
bundle "$tmp/plain" '["true"]' none
bundle "$tmp/mem" '["true"]' mem
bundle "$tmp/cpu" '["true"]' cpu
bundle "$tmp/sized" '["true"]' both
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1e6}'; }
time_one() { # KIND BUNDLE ID
  local s e
  s=$(date +%s%N)
  if [ "$1" = runc ]; then runc --root "$tmp/runc" run --bundle "$2" "$3" </dev/null >/dev/null
  else "$RUNVM" --root "$tmp/state" run --bundle "$2" "$3" </dev/null >/dev/null; fi
  e=$(date +%s%N)
  echo $((e - s))
}
: >"$tmp/runc.ns"; : >"$tmp/plain.ns"; : >"$tmp/mem.ns"; : >"$tmp/cpu.ns"; : >"$tmp/sized.ns"
for i in $(seq "$n"); do
  time_one runc "$tmp/plain" "r$i" >>"$tmp/runc.ns"
  for kind in plain mem cpu sized; do time_one runvm "$tmp/$kind" "$kind$i" >>"$tmp/$kind.ns"; done
done
runc_ms=$(median <"$tmp/runc.ns"); plain_ms=$(median <"$tmp/plain.ns"); sized_ms=$(median <"$tmp/sized.ns")
mem_ms=$(median <"$tmp/mem.ns"); cpu_ms=$(median <"$tmp/cpu.ns")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
table=$tmp/table.md
{
  echo "### Cold start: \`run\` of \`true\`, median of $n each, interleaved"
  echo
  echo "| runtime | VM | median ms | vs runc | vs no limit |"
  echo "|---|---|---:|---:|---:|"
  echo "| runc | - | $runc_ms | 1.00 | - |"
  echo "| runvm ($RUNVM_HYPERVISOR) | no limits: base RAM, 1 vCPU | $plain_ms | $(ratio "$plain_ms" "$runc_ms") | 1.00 |"
  echo "| runvm ($RUNVM_HYPERVISOR) | 2 GiB limit: base + 2048 MiB, 1 vCPU | $mem_ms | $(ratio "$mem_ms" "$runc_ms") | $(ratio "$mem_ms" "$plain_ms") |"
  echo "| runvm ($RUNVM_HYPERVISOR) | 2 CPUs: base RAM, 2 vCPUs | $cpu_ms | $(ratio "$cpu_ms" "$runc_ms") | $(ratio "$cpu_ms" "$plain_ms") |"
  echo "| runvm ($RUNVM_HYPERVISOR) | 2 GiB limit, 2 CPUs: base + 2048 MiB, 2 vCPUs | $sized_ms | $(ratio "$sized_ms" "$runc_ms") | $(ratio "$sized_ms" "$plain_ms") |"
} >"$table"
# Host memory of one running container, outside guest RAM.
bundle "$tmp/idle" '["sleep","600"]' both
"$RUNVM" --root "$tmp/state" run -d --bundle "$tmp/idle" idle </dev/null >/dev/null
sleep 5
{
  echo
  echo "### Host memory of one container (a \`sleep\`; MiB from /proc/PID/status), with its host cgroup's usage"
  echo
  echo "| process | VmRSS | RssShmem (guest RAM) | overhead |"
  echo "|---|---:|---:|---:|"
  total=0
  for p in $("$RUNVM" --root "$tmp/state" ps --format json idle | tr -d '[]' | tr ',' ' '); do
    read -r rss shm < <(awk '/^VmRSS/ {r=$2} /^RssShmem/ {s=$2} END {print r, s}' "/proc/$p/status")
    echo "| $(cat "/proc/$p/comm") | $((rss / 1024)) | $((shm / 1024)) | $(((rss - shm) / 1024)) |"
    total=$((total + rss - shm))
  done
  echo "| **total** | | | **$((total / 1024))** |"
  usage=$(cat /sys/fs/cgroup/memory/runvm-bench-$$/idle/memory.usage_in_bytes 2>/dev/null ||
          cat /sys/fs/cgroup/runvm-bench-$$/idle/memory.current)
  limit=$(cat /sys/fs/cgroup/memory/runvm-bench-$$/idle/memory.limit_in_bytes 2>/dev/null ||
          cat /sys/fs/cgroup/runvm-bench-$$/idle/memory.max)
  echo
  echo "Host cgroup /runvm-bench-$$/idle: usage $((usage >> 20)) MiB of a $((limit >> 20)) MiB limit (2048 MiB spec limit + base RAM + overhead)."
} >>"$table"
cat "$table"
if [ -z "${NO_DOC:-}" ]; then
  python3 - "$repo/docs/benchmarks.md" "$table" "$(date +%F)" "$n" <<'PY'
import sys
doc, table, day, n = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3], sys.argv[4]
text = open(doc).read()
start, end = "<!-- resources-bench:start -->", "<!-- resources-bench:end -->"
body = "%s\n`scripts/bench/resources.sh build %s` on %s:\n\n%s%s" % (start, n, day, table, end)
if start in text:
    a = text.index(start); b = text.index(end) + len(end)
    text = text[:a] + body + text[b:]
else:
    text += "\n## Resources\n\n" + body + "\n"
open(doc, "w").write(text)
PY
fi
