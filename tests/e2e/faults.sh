#!/usr/bin/env bash
# e2e faults through QEMU with TCG: each one gives a clear error on stderr and a non-zero
# status, the container ends stopped (or gone, after `run` without --keep), and nothing of
# it is left: no broker or QEMU, no socket, image or VM directory, no mount, no state.
#  1. a missing kernel (no boot)
#  2. a garbage initramfs (the kernel panics: no root)
#  3. an agent that never answers (/init sleeps): the boot deadline, RUNVM_BOOT_TIMEOUT_MS
#  4. a guest kernel panic (/init exits)
#  5. the broker killed mid-run, 6. QEMU killed mid-run (`runvm run --keep` of a long sleep)
# Cases 2-4 boot tiny busybox initramfs files made here; 5 and 6 boot the real image.
set -euo pipefail
RUNVM=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_root
require_tools qemu-system-x86_64 cpio
require_static_busybox
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
require_built "$agent" "$broker"
tmp=$(mktemp -d /tmp/runvm-faults.XXXXXX)
root=$tmp/state
trap 'for c in $("$RUNVM" --root "$root" list -q 2>/dev/null); do "$RUNVM" --root "$root" delete --force "$c"; done; rm -rf "$tmp"' EXIT
image=$(guest_image "$agent" "$tmp/image") || exit 77
export RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio RUNVM_BROKER=$broker
export RUNVM_HYPERVISOR=qemu
# Each container here is checked through its own VM's processes and directory: no pooled
# VMs (template: auto, e2e_template_pool).
export RUNVM_TEMPLATE=off

# tiny_initramfs OUT INIT_SCRIPT: busybox and an /init shell script, nothing else.
tiny_initramfs() {
  local out=$1 script=$2 t
  t=$(mktemp -d "$tmp/initrd.XXXXXX")
  mkdir -p "$t/bin" "$t/dev" "$t/proc"
  cp /bin/busybox "$t/bin/busybox"
  printf '#!/bin/busybox sh\n%s\n' "$script" > "$t/init"
  chmod 0755 "$t/init"
  (cd "$t" && find . | cpio --quiet -o -H newc) | gzip -1 > "$out"
}

# run_fails NAME OUTFILE [ENV=VALUE...]: `runvm run` (without --keep) must fail; prints
# nothing, leaves stderr in OUTFILE, checks that nothing is left.
run_fails() {
  local id=$1 err=$2 rc start
  shift 2
  start=$(date +%s%N)
  set +e
  env "$@" "$RUNVM" --root "$root" run --bundle "$tmp/b" "$id" </dev/null >"$tmp/$id.out" 2>"$err"
  rc=$?
  set -e
  echo "--- $id: status $rc after $(( ($(date +%s%N) - start) / 1000000 )) ms; stderr:" >&2
  cat "$err" >&2
  expect_eq "$rc" 1 "$id: runc's status for a run that never created"
  expect_eq "$(grep -c '^runvm: ' "$err")" 1 "$id: the error printed once"
  expect_gone "$root" "$id" "$id"
}

make_bundle "$tmp/b" '["true"]'

# 1. Missing kernel: nothing starts.
run_fails k1 "$tmp/k1.err" RUNVM_KERNEL="$tmp/no-such-kernel"
expect_contains "$(cat "$tmp/k1.err")" "kernel $tmp/no-such-kernel" "missing kernel named"

# 2. Garbage initramfs: the kernel finds no init, panics, QEMU exits (panic=-1, -no-reboot).
head -c 65536 /dev/urandom > "$tmp/garbage.cpio.gz"
run_fails k2 "$tmp/k2.err" RUNVM_INITRD="$tmp/garbage.cpio.gz" RUNVM_BOOT_TIMEOUT_MS=60000
expect_contains "$(cat "$tmp/k2.err")" "qemu-tcg exited" "garbage initramfs: QEMU's end named"
expect_contains "$(cat "$tmp/k2.err")" "guest kernel panic: \"Kernel panic - not syncing: VFS" \
  "garbage initramfs: the panic's reason shown"
# The evidence outlives the VM: the logs' tails, where the error says.
kept=/run/runvm-vm/last-failed-start
expect_contains "$(cat "$tmp/k2.err")" "; logs: $kept" "garbage initramfs: the kept logs named"
grep -q "Kernel panic - not syncing: VFS" "$kept/console.log" || fail "kept console.log has no panic"
expect_contains "$(cat "$kept/reason")" "container k2 at " "kept logs: the reason names the container"
[ -s "$kept/qemu.log" ] || [ -s "$kept/broker.log" ] || fail "kept logs: neither qemu.log nor broker.log"

# 3. An agent that never answers: the boot deadline fires, the VM is stopped.
tiny_initramfs "$tmp/sleep.cpio.gz" 'exec /bin/busybox sleep 100000'
run_fails k3 "$tmp/k3.err" RUNVM_INITRD="$tmp/sleep.cpio.gz" RUNVM_BOOT_TIMEOUT_MS=5000
expect_contains "$(cat "$tmp/k3.err")" "did not answer before the deadline" "silent agent"

# 4. A guest kernel panic: /init exits.
tiny_initramfs "$tmp/exit.cpio.gz" 'exit 0'
run_fails k4 "$tmp/k4.err" RUNVM_INITRD="$tmp/exit.cpio.gz" RUNVM_BOOT_TIMEOUT_MS=60000
expect_contains "$(cat "$tmp/k4.err")" "guest kernel panic: \"Kernel panic - not syncing: Attempted to kill init" \
  "guest panic: the panic's reason shown"
expect_contains "$(cat "$kept/reason")" "container k4 at " "kept logs: the last failure's replace the one before"

# 5, 6. A helper killed while the container runs: `runvm run --keep` returns non-zero, the
# state says stopped with the error, delete leaves nothing.
make_bundle "$tmp/long" '["sleep","100000"]'
kill_mid_run() {
  local id=$1 victim=$2 pattern=$3 runpid pid st rc
  "$RUNVM" --root "$root" run --keep --bundle "$tmp/long" "$id" </dev/null \
    >"$tmp/$id.out" 2>"$tmp/$id.err" &
  runpid=$!
  for _ in $(seq 600); do
    st=$("$RUNVM" --root "$root" state "$id" 2>/dev/null |
         python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null || true)
    [ "$st" = running ] && break
    kill -0 "$runpid" 2>/dev/null || break
    sleep 0.1
  done
  [ "$st" = running ] || { cat "$tmp/$id.err" >&2; fail "$id: never running"; }
  # `runvm run` is the monitor; the broker and QEMU are its children.
  pid=$(pgrep -P "$runpid" -f "$pattern" | head -1)
  [ -n "$pid" ] || { pgrep -aP "$runpid" >&2; fail "$id: no $victim child"; }
  kill -9 "$pid"
  set +e
  timeout 60 tail --pid="$runpid" -f /dev/null
  wait "$runpid"
  rc=$?
  set -e
  echo "--- $id ($victim killed): status $rc; stderr:" >&2
  cat "$tmp/$id.err" >&2
  [ "$rc" -ne 0 ] || fail "$id: run returned 0 after $victim was killed"
  expect_contains "$(cat "$tmp/$id.err")" "$victim killed by signal 9" "$id: the dead helper named"
  "$RUNVM" --root "$root" state "$id" > "$tmp/$id.state"
  python3 - "$tmp/$id.state" "$victim" <<'PY' || fail "$id: state after the fault"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["status"] == "stopped", s
assert s["runvm"]["exit_status"] != 0, s
assert sys.argv[2] + " killed by signal 9" in s["runvm"]["error"], s
PY
  if pgrep -f "$(sandbox_dir "$root" "$id")" >/dev/null; then
    fail "$id: processes left behind before delete"
  fi
  "$RUNVM" --root "$root" delete "$id"
  expect_gone "$root" "$id" "$id"
}
kill_mid_run k5 runvm-broker runvm-broker
kill_mid_run k6 qemu-tcg qemu-system

# The monitor itself killed (-9) while its container runs: its broker and hypervisor die with
# it (PR_SET_PDEATHSIG) and `delete --force` removes what it left on disk: the share's
# mounts, the jail directory with the broker's sockets in it, the VM directory, the state.
"$RUNVM" --root "$root" create --bundle "$tmp/long" k7 </dev/null
"$RUNVM" --root "$root" start k7
monitor=$("$RUNVM" --root "$root" state k7 | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
dir=$(sandbox_dir "$root" k7)
[ "${RUNVM_JAIL:-on}" != on ] || [ -n "$(ls -A "$dir/jail")" ] || fail "k7: no sockets in $dir/jail"
kill -9 "$monitor"
for _ in $(seq 100); do pgrep -f "$dir" >/dev/null || break; sleep 0.1; done
# A broker that was hung when its monitor went leaves its sockets (it unlinks them when it
# ends cleanly, as here): one stands for them.
if [ -d "$dir/jail" ]; then : >"$dir/jail/fs.vhost.left-by-a-hung-broker"; fi
"$RUNVM" --root "$root" delete --force k7
expect_gone "$root" k7 "k7 (monitor killed)"
expect_eq "$("$RUNVM" --root "$root" list -q)" "" "no containers left"
echo "faults: ok"
