#!/usr/bin/env bash
# e2e through QEMU with TCG: three VMs in all.
#  1. `runvm run`: exit code, stdin piped in, stdout/stderr apart, env, cwd, user, hostname,
#     read-only rootfs, the guest's own kernel; the same bundle through runc.
#  2. containerd's sequence: create --pid-file, start, state, exec, exec --detach, kill,
#     delete; the pid-file process exits with the container's status.
#  3. a tty through --console-socket for create and exec --tty (runc beside it), a second
#     container beside it, then delete --force of both while they run.
set -euo pipefail
RUNVM=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "qemu missing"; exit 77; }
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
[ -x "$agent" ] || { echo "runvm-agent not built ($agent)"; exit 77; }
[ -x "$broker" ] || { echo "runvm-broker not built ($broker)"; exit 77; }
tmp=$(mktemp -d /tmp/runvm-e2e.XXXXXX)
trap 'for c in $("$RUNVM" --root "$root" list -q 2>/dev/null); do "$RUNVM" --root "$root" delete --force "$c"; done; rm -rf "$tmp"' EXIT
root=$tmp/state
image=$(guest_image "$agent" "$tmp/image") || exit 77
export RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio.gz RUNVM_BROKER=$broker
export RUNVM_HYPERVISOR=qemu
# TCG boots slow down a lot when ctest runs two VM tests at once on 2 cores.
export RUNVM_BOOT_TIMEOUT_MS=${RUNVM_BOOT_TIMEOUT_MS:-120000}
host_release=$(uname -r)

# 1. run
make_bundle "$tmp/b1" '["sh","-c","read line; echo \"in=$line\"; echo err >&2; echo \"env=$FOO cwd=$(pwd) uid=$(id -u) host=$(hostname)\"; touch /ro 2>/dev/null || echo readonly; uname -r; exit 7"]' \
  'c["process"]["env"].append("FOO=bar"); c["process"]["cwd"]="/work"; c["process"]["user"]={"uid":1000,"gid":1000}; c["root"]["readonly"]=True'
set +e
echo piped | "$RUNVM" --root "$root" run --bundle "$tmp/b1" r1 >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
cat "$tmp/out" "$tmp/err" >&2
expect_eq "$rc" 7 "run exit status"
expect_contains "$(cat "$tmp/out")" "in=piped" "stdin piped in"
expect_contains "$(cat "$tmp/out")" "env=bar cwd=/work uid=1000 host=runvm-e2e" "env, cwd, user"
expect_contains "$(cat "$tmp/out")" "readonly" "read-only rootfs"
expect_contains "$(cat "$tmp/err")" "err" "stderr"
guest_release=$(tail -1 "$tmp/out")
[ "$guest_release" != "$host_release" ] || fail "guest kernel is the host's"
if command -v runc >/dev/null; then
  set +e
  echo piped | runc --root "$tmp/runc" run --bundle "$tmp/b1" r1runc >"$tmp/rout" 2>/dev/null
  rrc=$?
  set -e
  expect_eq "$rrc" 7 "runc exit status"
  expect_eq "$(head -3 "$tmp/rout")" "$(head -3 "$tmp/out")" "runc and runvm agree"
fi
expect_gone "$root" r1 "after run"

# 2. containerd's sequence
make_bundle "$tmp/b2" '["sh","-c","trap \"exit 42\" TERM; while true; do sleep 0.1; done"]'
"$RUNVM" --root "$root" --log "$tmp/log.json" --log-format json create --bundle "$tmp/b2" \
  --pid-file "$tmp/pid" c2 </dev/null >"$tmp/c2.out" 2>&1
monitor=$(cat "$tmp/pid")
kill -0 "$monitor"
expect_eq "$("$RUNVM" --root "$root" state c2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" created "state after create"
"$RUNVM" --root "$root" start c2
expect_eq "$("$RUNVM" --root "$root" state c2 | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["status"], s["pid"])')" "running $monitor" "state after start"
expect_eq "$("$RUNVM" --root "$root" exec c2 sh -c 'echo exec-ok; exit 3'; echo "rc=$?")" "exec-ok
rc=3" "exec output and status"
echo '{"args":["sh","-c","sleep 0.3; exit 5"],"cwd":"/","env":["PATH=/bin"],"user":{"uid":0,"gid":0}}' > "$tmp/proc.json"
"$RUNVM" --root "$root" exec --process "$tmp/proc.json" --detach --pid-file "$tmp/epid" c2
epid=$(cat "$tmp/epid")
kill -0 "$epid"
"$RUNVM" --root "$root" kill c2 TERM
for _ in $(seq 100); do kill -0 "$monitor" 2>/dev/null || break; sleep 0.1; done
kill -0 "$monitor" 2>/dev/null && fail "monitor still running after kill"
expect_eq "$("$RUNVM" --root "$root" state c2 | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["status"], s["runvm"]["exit_status"])')" "stopped 42" "state after kill"
"$RUNVM" --root "$root" delete c2
expect_gone "$root" c2 "after delete"

# 3. a tty through --console-socket (create and exec --tty, runc's contract), a second
#    container beside it, then delete --force of both while they run.
make_bundle "$tmp/b4" '["sh"]' 'c["process"]["terminal"]=True'
if command -v runc >/dev/null; then
  console_receiver "$tmp/rcon" "$tmp/rcon.out" tty /dev/pts/ 'echo typed-$((1+2))' typed-3 'exit' ''
  runc --root "$tmp/runc" create --bundle "$tmp/b4" --console-socket "$tmp/rcon" tty-runc
  runc --root "$tmp/runc" start tty-runc
  wait_receiver "$receiver_pid" "$tmp/rcon.out" "runc tty"
  runc --root "$tmp/runc" delete --force tty-runc
fi
console_receiver "$tmp/con" "$tmp/con.out" tty /dev/pts/ 'echo typed-$((1+2))' typed-3
con_pid=$receiver_pid
"$RUNVM" --root "$root" create --bundle "$tmp/b4" --console-socket "$tmp/con" c3 </dev/null
"$RUNVM" --root "$root" start c3
make_bundle "$tmp/b3" '["sleep","1000"]'
"$RUNVM" --root "$root" run --detach --bundle "$tmp/b3" c4 </dev/null
expect_eq "$("$RUNVM" --root "$root" list -q | tr '\n' ' ')" "c3 c4 " "two containers"
console_receiver "$tmp/econ" "$tmp/econ.out" tty /dev/pts/ 'echo exec-$((2+3))' exec-5 'exit 4' ''
set +e
"$RUNVM" --root "$root" exec --tty --console-socket "$tmp/econ" c3 sh
rc=$?
set -e
wait_receiver "$receiver_pid" "$tmp/econ.out" "exec --tty"
expect_eq "$rc" 4 "exec --tty exit status"
expect_contains "$(cat "$tmp/econ.out")" "echo exec-\$((2+3))" "exec --tty: the typed line echoed"
"$RUNVM" --root "$root" delete --force c3
"$RUNVM" --root "$root" delete --force c4
# The VM is gone: the console's slave side closed, the receiver got EIO and finished.
wait_receiver "$con_pid" "$tmp/con.out" "create --console-socket"
expect_contains "$(cat "$tmp/con.out")" "echo typed-\$((1+2))" "tty: the typed line echoed"
expect_eq "$("$RUNVM" --root "$root" list -q)" "" "list after delete --force"
expect_gone "$root" c3 "after delete --force"
expect_gone "$root" c4 "after delete --force"
echo "qemu lifecycle: ok"
