#!/usr/bin/env bash
# containerd 1.6 (Debian's) driving containerd-shim-runvm-v2 through ctr, with its own
# config, root, state and socket: an OCI image built here (busybox-static packed with umoci)
# is imported, then
#  1. ctr run --rm: the guest's kernel, output and exit status 3;
#     1b. ctr run --annotation io.runvm.initrd=/etc/shadow: refused, the key named, nothing
#     left;
#  2. ctr run -t (under script(1)'s pty): a terminal in the guest, its size from ctr's
#     ResizePty, exit status 4;
#  3. ctr run --memory-limit of a command that overruns it: /tasks/oom, exit status 137;
#  4. a detached task: exec (output, status), ps, pause/resume, metrics; containerd
#     restarted under it (the task still RUNNING, exec works again); kill, delete;
#  5. with the CRI annotations, a second task joins the first one's VM as a pod (same
#     guest boot id, one QEMU);
#  afterwards no shim, broker or VM process remains. Four VM boots in all (QEMU TCG).
# usage: ctr_run.sh SHIM RUNVM BUILD_DIR   (RUNVM_TEST_AGENT / RUNVM_TEST_BROKER: other
#        runvm-agent / runvm-broker binaries than BUILD_DIR's)
set -euo pipefail
shim=$(readlink -f "$1")
runvm=$(readlink -f "$2")
build=$(readlink -f "$3")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
expect_contains() { case "$1" in *"$2"*) ;; *) fail "$3: '$2' not in '$1'";; esac; }

[ "$(id -u)" -eq 0 ] || skip "needs root"
for tool in containerd ctr umoci qemu-system-x86_64 python3 script; do
  command -v "$tool" >/dev/null || skip "$tool missing"
done
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" | grep -q 'statically linked' || skip "busybox-static missing"
agent=${RUNVM_TEST_AGENT:-$build/guest_agent/runvm-agent}
broker=${RUNVM_TEST_BROKER:-$build/broker/runvm-broker}
[ -x "$agent" ] || skip "runvm-agent not built ($agent)"
[ -x "$broker" ] || skip "runvm-broker not built ($broker)"

tmp=$(mktemp -d /tmp/runvm-ctr.XXXXXX)
. "$here/lib.sh"
trap cleanup_containerd_test EXIT
trap 'exit 1' TERM INT

# Guest image and the shim's helpers; QEMU (TCG): this test is about the shim, not KVM.
# The default kernel first; Debian's cloud kernel when that one cannot be packed.
use_runvm_shim "$shim" "$runvm" "$agent" "$broker" || skip "guest image could not be built"

start_containerd || fail "containerd did not start"
import_busybox_image "$busybox" sh echo cat sleep uname trap true hostname tty stty tail ||
  fail "image import: $(ctr images ls -q)"
img=localhost/runvm-busybox:latest
# With template: auto (docs/design/fast-start.md) a create leaves a booted VM in the pool for
# the next one: the checks below that no VM is left empty the pool first.
drain_pool() { "$runvm" --root "$tmp/runvm/default" template rm >/dev/null 2>&1 || true; }

# 1. ctr run --rm: output, the guest's own kernel, exit status.
set +e
ctr run --rm --runtime io.containerd.runvm.v2 "$img" c1 sh -c 'uname -r; echo hi; exit 3' \
  </dev/null >"$tmp/run.out" 2>"$tmp/run.err"
rc=$?
set -e
cat "$tmp/run.out" "$tmp/run.err" >&2
expect_eq "$rc" 3 "ctr run exit status"
expect_contains "$(cat "$tmp/run.out")" "hi" "ctr run output"
guest_release=$(head -1 "$tmp/run.out")
[ -n "$guest_release" ] && [ "$guest_release" != "$(uname -r)" ] ||
  fail "guest kernel '$guest_release' is the host's"
ctr containers ls -q | grep -qx c1 && fail "--rm left container c1"

# 1b. A spec naming a host file as the guest's initrd (the VM would read it into guest RAM):
# refused by default, the key named, nothing left running or recorded.
set +e
ctr run --rm --runtime io.containerd.runvm.v2 --annotation io.runvm.initrd=/etc/shadow "$img" \
  c-attack true </dev/null >"$tmp/attack.out" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "ctr run with io.runvm.initrd=/etc/shadow succeeded"
expect_contains "$(cat "$tmp/attack.out")" "annotation io.runvm.initrd: not enabled" \
  "ctr run with io.runvm.initrd=/etc/shadow"
drain_pool
if pgrep -f "qemu-system-x86_64.*$tmp/image" >/dev/null; then fail "a VM runs after the refused create"; fi
tasks=$(ctr tasks ls -q)
if grep -qx c-attack <<<"$tasks"; then fail "the refused container has a task"; fi
ctr containers rm c-attack >/dev/null 2>&1 || true
left=$(find "$RUNVM_SHIM_ROOT" -name '*c-attack*' 2>/dev/null)
[ -z "$left" ] || fail "the refused container left $left"
echo "annotation attack refused: $(tail -1 "$tmp/attack.out")"

# 2. ctr run -t: ctr wants a terminal of its own, script(1) gives it one of the size set
# here; ctr sends that size with ResizePty after Start, so the container waits for it.
# script(1) sends its end-of-input byte (NUL once ctr made the pty raw) through ctr to the
# guest's terminal, which echoes it as ^@ before the answer of `tty`.
cat >"$tmp/run-tty.sh" <<'SH'
#!/bin/sh
stty rows 33 cols 101
exec ctr --address "$SOCK" run -t --rm --runtime io.containerd.runvm.v2 "$IMG" c3 sh -c '
  tty; i=0
  while [ "$(stty size)" != "33 101" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  echo size $(stty size); exit 4'
SH
chmod +x "$tmp/run-tty.sh"
set +e
SOCK=$sock IMG=$img script -qec "$tmp/run-tty.sh" /dev/null </dev/null >"$tmp/tty.out" 2>&1
rc=$?
set -e
tr -d '\r' <"$tmp/tty.out" >&2
expect_eq "$rc" 4 "ctr run -t exit status"
expect_contains "$(tr -d '\r' <"$tmp/tty.out")" "/dev/" "ctr run -t: tty's answer"
if tr -d '\r' <"$tmp/tty.out" | grep -qx 'not a tty'; then fail "ctr run -t: no terminal in the guest"; fi
expect_contains "$(tr -d '\r' <"$tmp/tty.out")" "size 33 101" "ctr run -t: terminal size"

# 3. Out of memory: tail buffers /dev/zero (no newline ever comes) past the cgroup's limit;
# the guest's OOM killer ends it, the shim publishes TaskOOM before TaskExit.
set +e
ctr run --rm --memory-limit $((32 << 20)) --runtime io.containerd.runvm.v2 "$img" c4 \
  tail /dev/zero </dev/null >"$tmp/oom.out" 2>&1
rc=$?
set -e
cat "$tmp/oom.out" >&2
expect_eq "$rc" 137 "ctr run of an OOM-killed task: exit status"

# 4. A detached task and the verbs around it.
# c2 carries the CRI annotations of a pod's sandbox (pause) container: its VM is the pod's.
pod_sandbox=(--annotation io.kubernetes.cri.container-type=sandbox
             --annotation io.kubernetes.cri.sandbox-id=c2)
ctr run -d --runtime io.containerd.runvm.v2 "${pod_sandbox[@]}" "$img" c2 \
  sh -c 'trap "exit 42" TERM; while true; do sleep 0.1; done' </dev/null
expect_eq "$(ctr tasks ls | awk '$1=="c2"{print $3}')" RUNNING "task c2 after run -d"
set +e
out=$(ctr tasks exec --exec-id e1 c2 sh -c 'echo exec-ok; exit 5' </dev/null)
rc=$?
set -e
expect_eq "$rc" 5 "exec exit status"
expect_eq "$out" "exec-ok" "exec output"
pids=$(ctr tasks ps c2 | tail -n +2 | wc -l)
[ "$pids" -ge 1 ] || fail "ctr tasks ps c2 listed no process"
ctr tasks pause c2
expect_eq "$(ctr tasks ls | awk '$1=="c2"{print $3}')" PAUSED "task c2 after pause"
ctr tasks resume c2
expect_eq "$(ctr tasks ls | awk '$1=="c2"{print $3}')" RUNNING "task c2 after resume"
ctr tasks metrics c2 >"$tmp/metrics" 2>&1 || { cat "$tmp/metrics" >&2; fail "ctr tasks metrics"; }

# containerd restarts under the running task: it reloads the shim from its state directory
# (the bundle's address file), reconnects and asks for the task's state.
stop_containerd
pgrep -f -- "-address $sock" >/dev/null || fail "the shim died with containerd"
start_containerd || fail "containerd did not restart"
expect_eq "$(ctr tasks ls | awk '$1=="c2"{print $3}')" RUNNING "task c2 after containerd's restart"
out=$(ctr tasks exec --exec-id e2 c2 sh -c 'echo after-restart' </dev/null) ||
  fail "exec after containerd's restart"
expect_eq "$out" "after-restart" "exec output after containerd's restart"
# 5. A pod of two containers in one VM: c5 names c2 as its sandbox, so it joins c2's VM
# (no boot of its own) and sees the same guest boot id.
ctr run -d --runtime io.containerd.runvm.v2 --annotation io.kubernetes.cri.container-type=container \
  --annotation io.kubernetes.cri.sandbox-id=c2 "$img" c5 sleep 1000 </dev/null
boot_c2=$(ctr tasks exec --exec-id b2 c2 cat /proc/sys/kernel/random/boot_id </dev/null)
boot_c5=$(ctr tasks exec --exec-id b5 c5 cat /proc/sys/kernel/random/boot_id </dev/null)
[ -n "$boot_c2" ] || fail "no boot id from c2"
expect_eq "$boot_c5" "$boot_c2" "c5's guest boot id (one VM for the pod)"
drain_pool
expect_eq "$(pgrep -c -f "qemu-system-x86_64.*$tmp/image")" 1 "VMs running for the pod"
ctr tasks kill -s KILL c5
for _ in $(seq 100); do
  [ "$(ctr tasks ls | awk '$1=="c5"{print $3}')" = STOPPED ] && break
  sleep 0.1
done
expect_eq "$(ctr tasks ls | awk '$1=="c5"{print $3}')" STOPPED "task c5 after kill"
ctr tasks delete c5 >/dev/null
ctr containers rm c5
expect_eq "$(ctr tasks ls | awk '$1=="c2"{print $3}')" RUNNING "the pod's sandbox c2 after c5 went"
# Another member after the last one went: it finds its rootfs in the pod's share (the guest
# once kept a stale directory of members and could not).
out=$(ctr run --rm --runtime io.containerd.runvm.v2 --annotation io.kubernetes.cri.container-type=container \
  --annotation io.kubernetes.cri.sandbox-id=c2 "$img" c6 sh -c 'echo member-again' </dev/null 2>&1) ||
  { echo "$out" >&2; fail "a pod member after the last one went"; }
expect_eq "$out" member-again "a pod member after the last one went"
ctr tasks kill c2
for _ in $(seq 100); do
  [ "$(ctr tasks ls | awk '$1=="c2"{print $3}')" = STOPPED ] && break
  sleep 0.1
done
expect_eq "$(ctr tasks ls | awk '$1=="c2"{print $3}')" STOPPED "task c2 after kill"
ctr tasks delete c2 >"$tmp/delete.out"
ctr containers rm c2

# The shims' events reached containerd (its exchange logs each forward at debug level):
# every topic of this slice was forwarded and none was refused.
forwarded() { grep 'event forwarded' "$tmp/containerd.log" | grep -o 'topic=[^ ]*' | cut -d= -f2; }
for t in /tasks/create /tasks/start /tasks/exec-added /tasks/exec-started /tasks/paused \
         /tasks/resumed /tasks/oom /tasks/exit /tasks/delete; do
  forwarded | grep -x "$t" >/dev/null || { forwarded >&2; fail "event $t was not forwarded"; }
done
if grep 'error forwarding event' "$tmp/containerd.log" >&2; then fail "containerd refused an event"; fi

# Nothing of the shim or the VMs may outlive the tasks.
drain_pool
sleep 1
if pgrep -f -- "-address $sock" >/dev/null; then
  pgrep -af -- "-address $sock" >&2; fail "a shim process is left"
fi
if pgrep -f "$tmp/image" >/dev/null; then
  pgrep -af "$tmp/image" >&2; fail "a VM (qemu) process is left"
fi
if pgrep -f "runvm-vm/" >/dev/null; then
  pgrep -af "runvm-vm/" >&2; fail "a broker or VM process is left"
fi
[ -z "$(ls -A "$tmp/runvm/default" 2>/dev/null)" ] || fail "runvm state left: $(ls "$tmp/runvm/default")"
# Each shim removed its socket (containerd 1.6's name: sha256 of address/namespace/id).
for id in c1 c2 c3 c4 c5 c6; do
  s=/run/containerd/s/$(printf '%s' "$sock/default/$id" | sha256sum | cut -d' ' -f1)
  [ ! -e "$s" ] || fail "the shim of $id left its socket $s"
done
echo "ctr run: guest kernel $guest_release, exit 3; run -t, OOM (137, /tasks/oom); exec, ps," \
  "pause/resume, metrics, containerd restart, a pod of two in one VM, kill, delete: ok"
