#!/usr/bin/env bash
# Benchmark: `runvm run` of `true` under QEMU TCG vs a plain QEMU boot of the same kernel and
# initramfs to /init (a busybox /init that powers off), `runc run` beside it, and `runvm run`
# in a VM of the pool (template: auto) with an idle pooled VM's host memory; the timelines'
# phases. Results go between this script's markers in docs/benchmarks.md.
# usage: scripts/bench/run.sh [RUNS]   (as root, after a build in BUILD_DIR, default build/)
set -euo pipefail
# Every container boots its own VM here unless asked (template: auto would start the later
# ones in pooled VMs booted in the background, docs/design/fast-start.md).
export RUNVM_TEMPLATE=off # the cold rows; the pooled row sets auto
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
runs=${1:-5}
runvm=$build/shim/cli/runvm
tmp=$(mktemp -d /tmp/runvm-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# RUNVM_GUEST_KERNEL: auto (default, as the runtime's image: the minimal kernel of
# scripts/build-kernel.sh when built, else Debian's cloud kernel), cloud or minimal.
image=$("$root/scripts/build-guest-image.sh" --agent "$build/guest_agent/runvm-agent" --out "$tmp/image" \
  --kernel "${RUNVM_GUEST_KERNEL:-auto}")
kernel_desc=$(awk '$1=="kernel_release"{print $2}' "$image/manifest")
if grep -q '^module ' "$image/manifest"; then kernel_desc="$kernel_desc, Debian's cloud kernel";
else kernel_desc="$kernel_desc, the minimal kernel"; fi
# Plain boots of the same kernel with the runtime's boot options (cryptomgr.notests:
# shim/hypervisor/guest_boot_options.cpp), to /init, which reboots at once (reboot=t and
# -no-reboot make that QEMU's exit, with or without ACPI in the kernel). "same initramfs": the guest image
# itself with a tiny /plain-init appended as a second cpio (the kernel unpacks both) and
# chosen by rdinit=, so the kernel unpacks exactly what a runvm boot unpacks; "tiny": a 2 MB
# busybox-only initramfs, the stricter baseline, shown beside it. Neither is compressed, as
# the image is not (scripts/build-guest-image.sh).
mkdir -p "$tmp/plain/bin" "$tmp/overlay"
cp /bin/busybox "$tmp/plain/bin/"; ln -s busybox "$tmp/plain/bin/sh"; ln -s busybox "$tmp/plain/bin/reboot"
printf '#!/bin/sh\nreboot -f\n' > "$tmp/plain/init"; chmod +x "$tmp/plain/init"
(cd "$tmp/plain" && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible) > "$tmp/tiny.cpio"
# /plain-init: reboot(2) with RESTART at once, no libc (the image has no shell to run a script).
cat > "$tmp/plain-init.c" <<'EOC'
void _start(void) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(169L), "D"(0xfee1deadL), "S"(672274793L),
                     "d"(0x01234567L) : "rcx", "r11", "memory");
    for (;;) {
    }
}
EOC
gcc -static -nostdlib -Os -o "$tmp/overlay/plain-init" "$tmp/plain-init.c"
(cd "$tmp/overlay" && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible) > "$tmp/overlay.cpio"
cat "$image/initramfs.cpio" "$tmp/overlay.cpio" > "$tmp/same.cpio"
khz=$(awk -F: '/cpu MHz/{printf "%d", $2*1000; exit}' /proc/cpuinfo)
mkdir -p "$tmp/b/rootfs/bin" "$tmp/b/rootfs/proc" "$tmp/b/rootfs/sys" "$tmp/b/rootfs/dev"
cp /bin/busybox "$tmp/b/rootfs/bin/"; ln -s busybox "$tmp/b/rootfs/bin/true"; ln -s busybox "$tmp/b/rootfs/bin/sh"
(cd "$tmp/b" && "$runvm" spec)
python3 -c 'import json,sys; p=sys.argv[1]; c=json.load(open(p)); c["process"]["terminal"]=False; c["process"]["args"]=["true"]; json.dump(c,open(p,"w"))' "$tmp/b/config.json"
# Timestamps from bash itself: a timer process inside the interval would count its own start
# and exit (python3's are about 100 ms here, over half of runvm's overhead).
elapsed_ms() { local a=${1/./} b=${2/./}; echo $(( (10#$b - 10#$a) / 1000 )); }
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
plain=(); tiny=(); vm=(); rc=(); pooled=(); pss=()
# pss_tree PID: Pss (kB) of PID and every process below it (a pooled VM: its monitor, the
# jail, QEMU and the broker).
pss_tree() {
  local total=0 p kids
  total=$(awk '/^Pss:/{print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0)
  for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    kids=$(pss_tree "$p"); total=$((total + kids))
  done
  echo "$total"
}
export RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio RUNVM_HYPERVISOR=qemu
for i in $(seq "$runs"); do
  plain_boot() { # initramfs, extra cmdline; sets $took (ms, QEMU alone)
    local t0=$EPOCHREALTIME
    qemu-system-x86_64 -accel tcg -machine microvm,acpi=on -nodefaults -no-user-config \
      -nographic -no-reboot -m 256M -kernel "$image/vmlinuz" -initrd "$1" \
      -append "console=ttyS0 quiet panic=-1 reboot=t cryptomgr.notests tsc_early_khz=$khz$2" \
      -serial "file:$tmp/plain-serial.log" >/dev/null
    local t1=$EPOCHREALTIME
    took=$(elapsed_ms "$t0" "$t1")
    # A boot whose init fails panics and reboots too: that would not be a boot to /init.
    if grep -q 'Kernel panic' "$tmp/plain-serial.log"; then
      echo "bench: plain boot with $1 panicked:" >&2; tail -5 "$tmp/plain-serial.log" >&2; exit 1
    fi
  }
  plain_boot "$tmp/same.cpio" " rdinit=/plain-init"
  plain+=("$took")
  plain_boot "$tmp/tiny.cpio" ""
  tiny+=("$took")
  t0=$EPOCHREALTIME; "$runvm" --root "$tmp/state" run --keep --bundle "$tmp/b" "b$i" </dev/null; t1=$EPOCHREALTIME
  vm+=("$(elapsed_ms "$t0" "$t1")")
  "$runvm" --root "$tmp/state" state "b$i" > "$tmp/state-b$i.json"
  "$runvm" --root "$tmp/state" delete "b$i"
  if command -v runc >/dev/null; then
    t0=$EPOCHREALTIME; runc --root "$tmp/runc" run --bundle "$tmp/b" "r$i" </dev/null; t1=$EPOCHREALTIME
    rc+=("$(elapsed_ms "$t0" "$t1")")
  fi
  # From a pooled VM (template: auto, docs/design/fast-start.md): one VM booted ahead (not
  # timed), its host memory while idle, then the run. The refill it starts is waited for and
  # the pool emptied before the next round, so no boot runs under the other measurements.
  export RUNVM_TEMPLATE=auto
  "$runvm" --root "$tmp/pstate" template build >/dev/null
  monitor=$("$runvm" --root "$tmp/pstate" template list -f json |
    python3 -c 'import json,sys; print([e["pid"] for e in json.load(sys.stdin) if e["state"]=="ready"][0])')
  pss+=("$(pss_tree "$monitor")")
  t0=$EPOCHREALTIME; "$runvm" --root "$tmp/pstate" run --keep --bundle "$tmp/b" "p$i" </dev/null; t1=$EPOCHREALTIME
  pooled+=("$(elapsed_ms "$t0" "$t1")")
  "$runvm" --root "$tmp/pstate" state "p$i" > "$tmp/pstate-p$i.json"
  "$runvm" --root "$tmp/pstate" delete "p$i"
  "$runvm" --root "$tmp/pstate" template build >/dev/null # waits for the refill's lock
  "$runvm" --root "$tmp/pstate" template rm >/dev/null
  export RUNVM_TEMPLATE=off
done
echo "samples (ms): plain ${plain[*]}; tiny ${tiny[*]}; runvm ${vm[*]}; pooled ${pooled[*]}; runc ${rc[*]:-}; pooled VM Pss kB ${pss[*]}" >&2
pv=$(printf '%s\n' "${pooled[@]}" | median); pk=$(printf '%s\n' "${pss[@]}" | median)
pooled_paired=$(for i in "${!vm[@]}"; do echo "${pooled[$i]} ${vm[$i]}"; done |
  awk '{printf "%.4f\n", $1/$2}' | median)
p=$(printf '%s\n' "${plain[@]}" | median); pt=$(printf '%s\n' "${tiny[@]}" | median); v=$(printf '%s\n' "${vm[@]}" | median)
r=$( [ ${#rc[@]} -gt 0 ] && printf '%s\n' "${rc[@]}" | median || echo n/a)
# Each round's runvm run over the plain boot just before it: the machine's load drifts less
# within a round than across the run, so this median moves less between runs.
paired=$(for i in "${!vm[@]}"; do echo "${vm[$i]} ${plain[$i]}"; done |
  awk '{printf "%.4f\n", $1/$2}' | median)
phases_of() { # LABEL STATE_FILES...: the boot timeline's medians
  python3 - "$@" <<'PY'
import json, sys, statistics
per = {}
for f in sys.argv[2:]:
    for p in json.load(open(f))["runvm"]["boot_timeline"]:
        per.setdefault(p["phase"], []).append(p["ms"])
for name, v in per.items():
    print("| phase%s: %s | %.0f ms |" % (sys.argv[1], name, statistics.median(v)))
PY
}
phases=$(phases_of "" "$tmp"/state-b*.json)
pooled_phases=$(phases_of " (pooled)" "$tmp"/pstate-p*.json)
table=$(cat <<EOT
<!-- runvm-cli-bench:begin -->
## CLI end to end

\`scripts/bench/run.sh $runs\` on $(date -u +%Y-%m-%d), $(nproc) cores, QEMU TCG, guest kernel $kernel_desc
(medians of $runs):

| measure | value |
|---|---|
| plain QEMU boot of the same kernel and initramfs to /init, which reboots (QEMU exits) | $p ms |
| plain QEMU boot with a tiny (2 MB busybox) initramfs instead | $pt ms |
| \`runvm run\` of \`true\` | $v ms |
| ratio to the same-initramfs boot (the issue's goal: <= 1.2) | $(python3 -c "print('%.2f' % ($v/$p))") |
| median of each round's ratio to the same-initramfs boot | $(printf '%.2f' "$paired") |
| ratio to the tiny-initramfs boot | $(python3 -c "print('%.2f' % ($v/$pt))") |
| \`runc run\` of \`true\` | $r ms |
| \`runvm run\` of \`true\` in a pooled VM (\`template: auto\`) | $pv ms |
| pooled over cold (the issue's goal: <= 0.25) | $(python3 -c "print('%.2f' % ($pv/$v))") |
| median of each round's pooled over cold | $(printf '%.2f' "$pooled_paired") |
| host memory of an idle pooled VM (Pss: monitor, jail, QEMU, broker) | $((pk / 1024)) MiB |
| pooled VM on disk | its state directory only (the pool keeps no image) |
$phases
$pooled_phases
<!-- runvm-cli-bench:end -->
EOT
)
doc=$root/docs/benchmarks.md
touch "$doc"
python3 "$(dirname "$0")/doc_section.py" "$doc" "$table"
echo "$table"
