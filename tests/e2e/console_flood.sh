#!/usr/bin/env bash
# e2e of bounded guest output (docs/security.md, "Bounded guest output"): with log_max_kib 64,
# a container floods the guest console (lines to /dev/kmsg at KERN_CRIT, which `quiet` still
# prints on ttyS0: ~4 MiB, 64x the cap). Meanwhile and after, every file in the VM directory
# stays within the cap (each capped log and its .1 half of it, plus a pipe's worth of slack),
# the console keeps the newest lines, `runvm exec` still works, and delete leaves nothing.
set -euo pipefail
RUNVM=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_root
require_tools qemu-system-x86_64
require_static_busybox
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
require_built "$agent" "$broker"
tmp=$(mktemp -d /tmp/runvm-console-flood.XXXXXX)
root=$tmp/state
trap 'for c in $("$RUNVM" --root "$root" list -q 2>/dev/null); do "$RUNVM" --root "$root" delete --force "$c"; done; rm -rf "$tmp"' EXIT
use_qemu_guest "$agent" "$broker" "$tmp/image" || exit 77
export RUNVM_LOG_MAX_KIB=64
cap=$((64 * 1024))

# 6000 lines of ~700 bytes (~4 MiB); each echo opens /dev/kmsg anew (its rate limit is per open file).
pad=$(printf 'x%.0s' $(seq 680))
make_bundle "$tmp/b" "[\"sh\",\"-c\",\"i=0; while [ \$i -lt 6000 ]; do echo \\\"<2>flood \$i $pad\\\" > /dev/kmsg; i=\$((i+1)); done; echo done > /dev/shm/flooded; sleep 1000\"]" \
  "c['linux'].setdefault('devices', []).append({'path': '/dev/kmsg', 'type': 'c', 'major': 1, 'minor': 11, 'fileMode': 0o666, 'uid': 0, 'gid': 0})
c['linux']['resources'].setdefault('devices', []).append({'allow': True, 'type': 'c', 'major': 1, 'minor': 11, 'access': 'rw'})"
"$RUNVM" --root "$root" create --bundle "$tmp/b" flood </dev/null >"$tmp/out" 2>&1 || { cat "$tmp/out" >&2; fail "create"; }
"$RUNVM" --root "$root" start flood
dir=$(sandbox_dir "$root" flood)

# check_sizes WHAT: no file a guest writes to passes its cap (rootfs.img is sized at create).
check_sizes() {
  local f size
  for f in "$dir"/*; do
    [ -f "$f" ] || continue
    case "$f" in */rootfs.img) continue;; esac
    size=$(stat -c %s "$f" 2>/dev/null) || continue # renamed by a rotation just now
    [ "$size" -le $((cap / 2)) ] || { ls -la "$dir" >&2; fail "$1: $f is $size bytes, over half the $cap-byte cap"; }
  done
}

start=$(date +%s)
while ! "$RUNVM" --root "$root" exec flood cat /dev/shm/flooded 2>/dev/null | grep -q done; do
  check_sizes "during the flood"
  [ $(($(date +%s) - start)) -lt 120 ] || { ls -la "$dir" >&2; fail "the flood did not end within 120 s"; }
  sleep 1
done
echo "flood of ~4 MiB written in $(($(date +%s) - start)) s"
# The guest's console drains its kernel log behind the writer (slower under load): wait for
# the last line, checking the sizes meanwhile.
console() { cat "$dir/console.log.1" "$dir/console.log" 2>/dev/null; }
start=$(date +%s)
until console | grep -q "flood 5999"; do
  check_sizes "while the console drains"
  [ $(($(date +%s) - start)) -lt 120 ] || { ls -la "$dir" >&2; fail "the newest console line never reached the log"; }
  sleep 1
done
check_sizes "after the flood"
[ -f "$dir/console.log.1" ] || { ls -la "$dir" >&2; fail "the console log was never rotated: the flood did not reach it"; }
total=$(( $(stat -c %s "$dir/console.log" 2>/dev/null || echo 0) + $(stat -c %s "$dir/console.log.1" 2>/dev/null || echo 0) ))
[ "$total" -le "$cap" ] || fail "console.log and .1 hold $total bytes, over the cap"
expect_eq "$("$RUNVM" --root "$root" exec flood echo exec-ok)" "exec-ok" "exec after the flood"
"$RUNVM" --root "$root" delete --force flood
expect_gone "$root" flood "after delete"
echo "console flood: ok"
