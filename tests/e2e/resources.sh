#!/usr/bin/env bash
# e2e of VM sizing and host accounting (docs/resources.md), runc beside runvm on the same
# bundles where runc gives the reference:
#  1. a 1 GiB memory limit and a process allocating 600 MiB succeeds in both; a 64 MiB
#     limit and 200 MiB allocated is OOM-killed in both, with the same status;
#  2. the VM is sized from the spec: nproc = the quota over its period rounded up, MemTotal
#     = the configured base + the limit; the guest's cgroup has the spec's limits;
#  3. while it runs, the container's host cgroup (linux.cgroupsPath, every hierarchy) holds
#     the monitor, the broker and QEMU, its memory usage includes the guest RAM the
#     container touched, its limit is the VM's RAM plus the overhead, its CPU quota the
#     spec's; update changes guest and host, and refuses what the VM cannot grow to;
#  4. a limit beyond the host, or a cgroupsPath with "..", fails create naming the field
#     and leaves nothing; with --systemd-cgroup, slice:prefix:name is the scope's path;
#  5. delete removes the host cgroup it made.
set -euo pipefail
RUNVM=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_root
require_tools qemu-system-x86_64 runc
[ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || skip "no cgroup memory controller"
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
require_built "$agent" "$broker"
tmp=$(mktemp -d /tmp/runvm-resources.XXXXXX)
root=$tmp/state
cg=runvm-e2e-$$
# The systemd case makes /system.slice where there is none (no systemd here): removed after.
made_slice=true; ls -d /sys/fs/cgroup/*/system.slice /sys/fs/cgroup/system.slice >/dev/null 2>&1 && made_slice=false
cleanup() {
  for c in $("$RUNVM" --root "$root" list -q 2>/dev/null); do "$RUNVM" --root "$root" delete --force "$c"; done
  for c in $(runc --root "$tmp/runc" list -q 2>/dev/null); do runc --root "$tmp/runc" delete --force "$c"; done
  for d in /sys/fs/cgroup/*/"$cg" /sys/fs/cgroup/"$cg" /sys/fs/cgroup/*/system.slice/runvm-e2e-*.scope; do
    [ -d "$d" ] && rmdir "$d"/* "$d" 2>/dev/null || true
  done
  if $made_slice; then rmdir /sys/fs/cgroup/*/system.slice /sys/fs/cgroup/system.slice 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
use_qemu_guest "$agent" "$broker" "$tmp/image" || exit 77
v1=false; [ -d /sys/fs/cgroup/memory ] && v1=true
# host_file CONTROLLER FILE_V1 FILE_V2 PATH: a file of the host cgroup PATH.
host_file() {
  if $v1; then echo "/sys/fs/cgroup/$1$4/$2"; else echo "/sys/fs/cgroup$4/$3"; fi
}
applets() { local a; for a in dd nproc grep; do ln -sf busybox "$1/rootfs/bin/$a"; done; }
# both NAME ARGS_JSON EDIT: runs the bundle under runc and runvm; prints "runc runvm" statuses.
both() {
  local name=$1 args=$2 edit=$3 a b
  make_bundle "$tmp/$name" "$args" "$edit"
  applets "$tmp/$name"
  set +e
  runc --root "$tmp/runc" run --bundle "$tmp/$name" "$name-runc" </dev/null >"$tmp/$name.runc" 2>&1; a=$?
  "$RUNVM" --root "$root" run --bundle "$tmp/$name" "$name" </dev/null >"$tmp/$name.runvm" 2>&1; b=$?
  set -e
  echo "$a $b"
}
mem() { echo "c['linux']['resources']['memory']={'limit':$1}; c['linux']['cgroupsPath']='/$cg/'+'$2'"; }

# 1. Allocations under a limit, runc beside runvm (busybox dd's buffer is one allocation).
read -r a b <<<"$(both fits '["dd","if=/dev/zero","of=/dev/null","bs=600M","count=1"]' "$(mem $((1 << 30)) fits)")"
expect_eq "$a" 0 "600 MiB under a 1 GiB limit: runc's status"
expect_eq "$b" 0 "600 MiB under a 1 GiB limit: runvm's status ($(cat "$tmp/fits.runvm"))"
read -r a b <<<"$(both oom '["dd","if=/dev/zero","of=/dev/null","bs=200M","count=1"]' "$(mem $((64 << 20)) oom)")"
expect_eq "$a" 137 "200 MiB under a 64 MiB limit: runc's status (OOM-killed)"
expect_eq "$b" "$a" "200 MiB under a 64 MiB limit: runvm's status, as runc's"

# 2-3. A running container: its VM's shape, its host cgroup.
make_bundle "$tmp/run" '["sleep","600"]' "$(mem $((300 << 20)) c1)
c['linux']['resources']['cpu']={'quota':150000,'period':100000}
[m.update(options=['nosuid','noexec','nodev','size=200m']) for m in c['mounts'] if m['destination'] == '/dev/shm']
c['process']['args']=['sh','-c','exec sleep 600']"
applets "$tmp/run"
"$RUNVM" --root "$root" create --bundle "$tmp/run" --pid-file "$tmp/c1.pid" c1 </dev/null >/dev/null
"$RUNVM" --root "$root" start c1
x() { "$RUNVM" --root "$root" exec c1 "$@"; }
# The guest cgroup's file: the container sees the guest's hierarchy, its own cgroup in it.
guest_cg() { x sh -c 'p=$(cat /proc/self/cgroup); cat "/sys/fs/cgroup${p#0::}/'"$1"'"'; }
expect_eq "$(x nproc)" 2 "vCPUs: quota 150000 over 100000, rounded up"
memtotal=$(x sh -c 'grep MemTotal /proc/meminfo' | awk '{print int($2 / 1024)}')
[ "$memtotal" -gt 300 ] || fail "guest MemTotal ${memtotal} MiB: not above the 300 MiB limit"
expect_eq "$(guest_cg memory.max)" $((300 << 20)) "the guest cgroup's memory.max: the spec's limit"
expect_eq "$(guest_cg cpu.max)" "150000 100000" "the guest cgroup's cpu.max: the spec's quota"
pids=$("$RUNVM" --root "$root" ps --format json c1 | tr -d '[]' | tr ',' ' ')
set -- $pids
[ "$#" -eq 3 ] || fail "ps json: expected monitor, broker and hypervisor, got '$pids'"
expect_eq "$1" "$(cat "$tmp/c1.pid")" "ps json: the monitor first"
procs=$(cat "$(host_file memory cgroup.procs cgroup.procs /$cg/c1)")
for p in $pids; do
  echo "$procs" | grep -qx "$p" || fail "host cgroup /$cg/c1 lacks pid $p ($(cat /proc/$p/comm)): $procs"
done
if $v1; then
  for h in /sys/fs/cgroup/*/; do
    [ -f "$h/cgroup.procs" ] || continue
    grep -qx "$1" "$h/$cg/c1/cgroup.procs" || fail "the monitor is not in $h$cg/c1"
  done
fi
before=$(cat "$(host_file memory memory.usage_in_bytes memory.current /$cg/c1)")
x dd if=/dev/zero of=/dev/shm/fill bs=1M count=150 2>/dev/null
after=$(cat "$(host_file memory memory.usage_in_bytes memory.current /$cg/c1)")
[ $((after - before)) -ge $((100 << 20)) ] ||
  fail "host cgroup usage grew by $(((after - before) >> 20)) MiB after 150 MiB written to the guest's tmpfs"
limit=$(cat "$(host_file memory memory.limit_in_bytes memory.max /$cg/c1)")
[ "$limit" -gt $((memtotal << 20)) ] || fail "host limit $limit is not above the VM's RAM ($memtotal MiB)"
[ "$limit" -lt $(((memtotal + 1024) << 20)) ] || fail "host limit $limit: more than the VM's RAM + 1 GiB"
if $v1; then
  expect_eq "$(cat /sys/fs/cgroup/cpu/$cg/c1/cpu.cfs_quota_us)" 150000 "host CPU quota"
else
  expect_eq "$(cat /sys/fs/cgroup/$cg/c1/cpu.max)" "150000 100000" "host cpu.max"
fi
# update: down in both places; beyond the VM refused, naming the resource, nothing changed.
"$RUNVM" --root "$root" update --memory 200m --cpu-quota 100000 c1
expect_eq "$(guest_cg memory.max)" $((200 << 20)) "update: the guest's memory.max"
if $v1; then
  expect_eq "$(cat /sys/fs/cgroup/cpu/$cg/c1/cpu.cfs_quota_us)" 100000 "update: the host CPU quota"
fi
"$RUNVM" --root "$root" update --memory 280m c1
expect_eq "$(guest_cg memory.max)" $((280 << 20)) "update up, within the VM: the guest's memory.max"
set +e
"$RUNVM" --root "$root" update --memory 64g c1 2>"$tmp/up.err"; rc=$?
set -e
[ "$rc" -ne 0 ] || fail "update --memory 64g: accepted by a VM of $memtotal MiB"
expect_contains "$(cat "$tmp/up.err")" "memory" "update beyond the VM: the error names the resource"
expect_eq "$(guest_cg memory.max)" $((280 << 20)) "a refused update changes nothing"
set +e
"$RUNVM" --root "$root" update --cpu-quota 900000 c1 2>"$tmp/up.err"; rc=$?
set -e
[ "$rc" -ne 0 ] || fail "update --cpu-quota 900000: accepted by a 2-vCPU VM"
expect_contains "$(cat "$tmp/up.err")" "cpu" "update beyond the vCPUs: the error names the resource"
"$RUNVM" --root "$root" delete --force c1
[ ! -d "$(dirname "$(host_file memory cgroup.procs cgroup.procs /$cg/c1)")" ] || fail "delete left the host cgroup /$cg/c1"

# 4. Refused at create, nothing left.
refused() { # NAME EDIT TEXT [GLOBAL FLAGS]
  local name=$1 edit=$2 text=$3 rc
  make_bundle "$tmp/$name" '["true"]' "$edit"
  set +e
  "$RUNVM" "${@:4}" --root "$root" create --bundle "$tmp/$name" "$name" </dev/null >/dev/null 2>"$tmp/$name.err"; rc=$?
  set -e
  expect_eq "$rc" 1 "$name: create's status"
  expect_contains "$(cat "$tmp/$name.err")" "$text" "$name: the error"
  expect_gone "$root" "$name" "$name"
}
refused too-many-cpus "c['linux']['resources']['cpu']={'quota':6400000,'period':100000}" linux.resources.cpu.quota
refused too-much-memory "c['linux']['resources']['memory']={'limit':1<<50}" linux.resources.memory.limit
refused climbing-path "c['linux']['cgroupsPath']='/$cg/../../escape'" linux.cgroupsPath
[ ! -e /sys/fs/cgroup/memory/escape ] && [ ! -e /sys/fs/cgroup/escape ] || fail "a refused cgroupsPath made a cgroup"

# 4b. --systemd-cgroup: the scope's path in every hierarchy.
make_bundle "$tmp/sd" '["sleep","600"]' "c['linux']['cgroupsPath']='system.slice:runvm-e2e:sd$$'"
"$RUNVM" --systemd-cgroup --root "$root" create --bundle "$tmp/sd" --pid-file "$tmp/sd.pid" sd </dev/null >/dev/null
grep -qx "$(cat "$tmp/sd.pid")" "$(host_file memory cgroup.procs cgroup.procs /system.slice/runvm-e2e-sd$$.scope)" ||
  fail "--systemd-cgroup: the monitor is not in /system.slice/runvm-e2e-sd$$.scope"
"$RUNVM" --root "$root" delete --force sd
[ ! -d "$(dirname "$(host_file memory cgroup.procs cgroup.procs /system.slice/runvm-e2e-sd$$.scope)")" ] ||
  fail "delete left the systemd scope's cgroup"
echo "resources e2e: ok"
