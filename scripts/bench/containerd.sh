#!/usr/bin/env bash
# Benchmark: `ctr run --rm` of `true` (busybox image) through containerd 1.6 with runvm's shim
# (io.containerd.runvm.v2) vs containerd's runc shim (io.containerd.runc.v2), N runs each,
# interleaved, medians and the ratio; then the host memory of one sandbox while a `sleep` task
# runs: every process under the shim (shim, monitor, broker, hypervisor), RSS minus the shared
# memory that is the guest's RAM (a memfd: RssShmem). Prints markdown tables.
# usage: scripts/bench/containerd.sh [BUILD_DIR] [N]   (root; containerd, ctr, umoci, runc,
#        busybox-static, QEMU; RUNVM_HYPERVISOR=qemu by default: KVM here may be kvm_pvm)
set -euo pipefail
# Every container boots its own VM here unless asked (template: auto would start the later
# ones in pooled VMs booted in the background, docs/design/fast-start.md).
export RUNVM_TEMPLATE=${RUNVM_TEMPLATE:-off}
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(readlink -f "${1:-$repo/build}")
n=${2:-10}
[ "$(id -u)" = 0 ] || { echo "containerd bench: needs root" >&2; exit 77; }
for tool in containerd ctr umoci runc containerd-shim-runc-v2 busybox; do
  command -v "$tool" >/dev/null || { echo "containerd bench: $tool missing" >&2; exit 77; }
done
for b in shim/containerd/containerd-shim-runvm-v2 shim/cli/runvm guest_agent/runvm-agent \
         broker/runvm-broker; do
  [ -x "$build/$b" ] || { echo "containerd bench: build $build/$b first" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/runvm-ctr-bench.XXXXXX)
. "$repo/tests/containerd/lib.sh"
cleanup() {
  set +e
  [ -n "$containerd_pid" ] && remove_all_tasks
  stop_containerd
  for p in $(pgrep -f -- "$tmp/" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  grep -o " $tmp/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' TERM INT

# The agent without its debug info, as scripts/bench/run.sh packs it.
strip -o "$tmp/runvm-agent" "$build/guest_agent/runvm-agent"
image=$("$repo/scripts/build-guest-image.sh" --agent "$tmp/runvm-agent" --out "$tmp/image" \
  --kernel "${RUNVM_GUEST_KERNEL:-auto}")
mkdir -p "$tmp/bin"
ln -s "$build/shim/containerd/containerd-shim-runvm-v2" "$tmp/bin/containerd-shim-runvm-v2"
export PATH=$tmp/bin:$PATH
export RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio
export RUNVM_BROKER=$build/broker/runvm-broker RUNVM_CLI=$build/shim/cli/runvm
export RUNVM_HYPERVISOR=${RUNVM_HYPERVISOR:-qemu} RUNVM_SHIM_ROOT=$tmp/runvm
start_containerd
import_busybox_image "$(command -v busybox)" sh true sleep
img=localhost/runvm-busybox:latest
# runc's shim keeps its state in /run/containerd/runc/<namespace>, shared by every containerd
# on the machine: ids unique to this run.
tag=$$

# One `ctr run --rm ... true`, its wall time in ns on stdout; a failure ends the benchmark.
run_once() { # runtime id
  local s e
  s=$(date +%s%N)
  ctr run --rm --runtime "$1" "$img" "$2" true </dev/null >/dev/null 2>"$tmp/run.err" ||
    { cat "$tmp/run.err" >&2; echo "containerd bench: ctr run --runtime $1 failed" >&2; exit 1; }
  e=$(date +%s%N)
  echo $((e - s))
}
median_ms() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1e6}'; }

run_once io.containerd.runc.v2 "warm-runc-$tag" >/dev/null
run_once io.containerd.runvm.v2 "warm-runvm-$tag" >/dev/null
: >"$tmp/runc.ns"
: >"$tmp/runvm.ns"
for i in $(seq "$n"); do # interleaved: load from elsewhere hits both alike
  run_once io.containerd.runc.v2 "runc-$i-$tag" >>"$tmp/runc.ns"
  run_once io.containerd.runvm.v2 "runvm-$i-$tag" >>"$tmp/runvm.ns"
done
runc_ms=$(median_ms <"$tmp/runc.ns")
runvm_ms=$(median_ms <"$tmp/runvm.ns")

# Host memory of one sandbox: the shim daemon of task $1 and all its descendants.
descendants() { # pid: the pid and every process below it
  echo "$1"
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do descendants "$c"; done
}
kib() { awk -v k="$2:" '$1==k {print $2; f=1} END {if (!f) print 0}' /proc/"$1"/status; }
memory_rows() { # id runtime-label
  local shim p rss shm
  shim=$(pgrep -f -- "-id $1 -address $sock" | head -1)
  [ -n "$shim" ] || { echo "containerd bench: no shim for $1" >&2; exit 1; }
  for p in $(descendants "$shim"); do
    [ -r /proc/"$p"/status ] || continue
    rss=$(kib "$p" VmRSS)
    shm=$(kib "$p" RssShmem)
    echo "| $2 | $(cat /proc/"$p"/comm) | $rss | $shm | $((rss - shm)) |"
  done
}
ctr run -d --runtime io.containerd.runc.v2 "$img" "mem-runc-$tag" sleep 1000 </dev/null
ctr run -d --runtime io.containerd.runvm.v2 "$img" "mem-runvm-$tag" sleep 1000 </dev/null
sleep 2 # let the guest settle after boot
rows_runc=$(memory_rows "mem-runc-$tag" runc)
rows_runvm=$(memory_rows "mem-runvm-$tag" runvm)
total() { awk -F'|' '{s += $6} END {print s}'; }

hyp=$RUNVM_HYPERVISOR
echo "## containerd: ctr run --rm of \`true\` (busybox), median of $n each, interleaved"
echo
echo "| runtime | median ms |"
echo "|---|---|"
echo "| io.containerd.runc.v2 | $runc_ms |"
echo "| io.containerd.runvm.v2 ($hyp) | $runvm_ms |"
echo "| ratio runvm/runc | $(awk -v a="$runvm_ms" -v r="$runc_ms" 'BEGIN {printf "%.2f", a / r}') |"
echo
echo "## Host memory per sandbox (a \`sleep\` task running; KiB from /proc/PID/status)"
echo
echo "Guest RAM is a shared memfd (RssShmem); overhead = VmRSS - RssShmem."
echo
echo "| runtime | process | VmRSS | RssShmem (guest RAM) | overhead |"
echo "|---|---|---|---|---|"
echo "$rows_runc"
echo "$rows_runvm"
echo "| runc | **total** | | | **$(echo "$rows_runc" | total)** |"
echo "| runvm | **total** | | | **$(echo "$rows_runvm" | total)** |"
