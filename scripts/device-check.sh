#!/usr/bin/env bash
# On a machine with its own /dev/kvm: builds runvm-vmm (and runvm-broker when present),
# runs the tiny-guest tests, then the VMM start benchmark: 20 runs of the real-mode guest,
# reporting main() → first KVM_RUN (wall and CPU), the run's total wall time and the peak
# RSS outside guest memory. Exit 77 without /dev/kvm.
# usage: scripts/device-check.sh [BUILD_DIR]
#        scripts/device-check.sh --prebuilt DIR   (DIR/vmm/runvm-vmm, DIR/vmm/guests/*.bin and
#        optionally DIR/broker/runvm-broker, copied from a build here: both programs link
#        statically, so a machine without our build dependencies can run them)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prebuilt=0
[ "${1:-}" = --prebuilt ] && { prebuilt=1; shift; }
build=${1:-$root/build-device}
[ -c /dev/kvm ] || { echo "device-check: no /dev/kvm: skipped"; exit 77; }
echo "device-check: $(uname -r), $(nproc) CPUs, kvm modules: $(ls /sys/module | grep -E '^kvm' | tr '\n' ' ')"
broker=-
if [ $prebuilt = 0 ]; then
  cmake -S "$root" -B "$build" -G Ninja -DRUNVM_FUZZERS=OFF >/dev/null
  cmake --build "$build" --target runvm-vmm vmm_test_guests
  cmake --build "$build" --target runvm-broker >/dev/null 2>&1 && broker=$build/broker/runvm-broker
else
  [ -x "$build/vmm/runvm-vmm" ] || { echo "device-check: no $build/vmm/runvm-vmm" >&2; exit 2; }
  [ -x "$build/broker/runvm-broker" ] && broker=$build/broker/runvm-broker
fi
"$root/tests/integration/vmm_tiny_guests.sh" "$build/vmm/runvm-vmm" "$build/vmm/guests" "$broker"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in $(seq 1 20); do
  /usr/bin/time -f '%e %M' -o "$work/time.$i" "$build/vmm/runvm-vmm" \
    --kernel "$build/vmm/guests/real_mode.bin" --kernel-format raw16 --memory-mib 64 \
    --serial-log "$work/serial" > "$work/log.$i" 2>&1
done
python3 - "$work" <<'PY'
import glob, re, statistics, sys
w = sys.argv[1]
wall, cpu, total, rss = [], [], [], []
for log in glob.glob(w + '/log.*'):
    m = re.search(r'first KVM_RUN: ([0-9.]+) ms wall, ([0-9.]+) ms CPU', open(log).read())
    if m:
        wall.append(float(m[1])); cpu.append(float(m[2]))
    e, maxrss = open(log.replace('log.', 'time.')).read().split()[-2:]
    total.append(float(e) * 1000); rss.append(int(maxrss))
med = statistics.median
print(f"runvm-vmm start, median of {len(wall)}: main() -> first KVM_RUN {med(wall):.1f} ms wall, "
      f"{med(cpu):.1f} ms CPU; whole run (exec to exit) {med(total):.0f} ms; "
      f"peak RSS {med(rss)} KiB (guest RAM touched: a few pages)")
PY
