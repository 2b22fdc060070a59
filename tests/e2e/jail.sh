#!/usr/bin/env bash
# e2e of the jail (docs/security.md, "Jail"): with RUNVM_JAIL=on, while a container runs, its
# QEMU (and its broker, once the broker is jailed) is checked the way an attacker inside would
# try it: uid not 0, no capabilities, seccomp on, another network and mount namespace,
# /etc/shadow out of reach, a host abstract socket refused. The container still works (exec),
# and nothing is left after delete. A jail user that does not exist fails the start, naming it.
# One uid per VM (docs/security.md, "One uid per VM"): each VM's processes run as an id of its
# own from jail_vm_ids, not the jail user's; a second VM's QEMU gets another, and neither can
# read the other's /proc/<pid>/mem or maps.
set -euo pipefail
RUNVM=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_root
require_tools qemu-system-x86_64 nsenter python3
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
require_built "$agent" "$broker" "$build/jail/runvm-jail"
getent passwd runvm >/dev/null || skip "jail user runvm missing (scripts/setup.sh creates it)"
jail_uid=$(id -u runvm)
vm_ids_first=1879113728 vm_ids_count=65536 # config.yaml jail_vm_ids' default
tmp=$(mktemp -d /tmp/runvm-e2e.XXXXXX)
listener_pid=""
trap 'for c in $("$RUNVM" --root "$root" list -q 2>/dev/null); do "$RUNVM" --root "$root" delete --force "$c"; done; [ -z "$listener_pid" ] || kill "$listener_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
root=$tmp/state
use_qemu_guest "$agent" "$broker" "$tmp/image" || exit 77
# Each container here is checked through its own VM's processes and directory: no pooled
# VMs (template: auto, e2e_template_pool).
export RUNVM_TEMPLATE=off
export RUNVM_JAIL=on

# A host abstract socket that a jailed process must not reach (abstract names are per network
# namespace); it answers anyone who does reach it.
host_abstract_listener "runvm-e2e-jail-$$" "$tmp/listener.log"

make_bundle "$tmp/b" '["sh","-c","trap \"exit 0\" TERM; while true; do sleep 0.1; done"]'
"$RUNVM" --root "$root" create --bundle "$tmp/b" j1 </dev/null
"$RUNVM" --root "$root" start j1
dir=$(sandbox_dir "$root" j1)
# The VM's own ids own its jail directory: from the range, not the jail user's, held by a lock.
vm_uid=$(stat -c %u "$dir/jail")
vm_gid=$(stat -c %g "$dir/jail")
[ "$(stat -c %a "$dir/jail")" = 700 ] || fail "jail dir mode: $(stat -c %a "$dir/jail")"
expect_eq "$vm_gid" "$vm_uid" "the VM's gid is its uid"
[ "$vm_uid" -ge "$vm_ids_first" ] && [ "$vm_uid" -lt $((vm_ids_first + vm_ids_count)) ] ||
  fail "jail dir owner $vm_uid: not from jail_vm_ids"
[ "$vm_uid" != "$jail_uid" ] || fail "the VM runs as the shared jail user"
expect_eq "$(cat "/run/runvm-vm-ids/$((vm_uid - vm_ids_first))")" j1 "the VM id lock names the VM"

# check_jailed WHAT PID [CAPS]: the attack checks against one process; CAPS its CapEff and
# CapPrm (0 unless given).
check_jailed() {
  local what=$1 pid=$2 caps=${3:-0000000000000000} status uid
  status=$(cat "/proc/$pid/status")
  uid=$(awk '/^Uid:/{print $2, $3, $4, $5}' <<<"$status")
  echo "$what (pid $pid): Uid $uid; $(grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp|Seccomp_filters):' <<<"$status" | tr '\n\t' '; ')"
  expect_eq "$uid" "$vm_uid $vm_uid $vm_uid $vm_uid" "$what: uids"
  expect_eq "$(awk '/^CapEff:/{print $2}' <<<"$status")" "$caps" "$what: CapEff"
  expect_eq "$(awk '/^CapPrm:/{print $2}' <<<"$status")" "$caps" "$what: CapPrm"
  expect_eq "$(awk '/^NoNewPrivs:/{print $2}' <<<"$status")" 1 "$what: no_new_privs"
  expect_eq "$(awk '/^Seccomp:/{print $2}' <<<"$status")" 2 "$what: seccomp filter mode"
  [ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/self/ns/net)" ] ||
    fail "$what: in the host's network namespace"
  [ "$(readlink "/proc/$pid/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] ||
    fail "$what: in the host's mount namespace"
  # What it sees as / holds no /etc/shadow; with its uid, in its namespaces, nothing reads it.
  [ ! -e "/proc/$pid/root/etc/shadow" ] || fail "$what: /etc/shadow in its root"
  local enter=(nsenter --target "$pid" --mount --net -S "$vm_uid" -G "$vm_gid" --)
  if "${enter[@]}" /usr/bin/cat /etc/shadow >/dev/null 2>"$tmp/shadow.err"; then
    fail "$what: /etc/shadow readable"
  fi
  expect_contains "$(cat "$tmp/shadow.err")" "No such file or directory" "$what: /etc/shadow"
  expect_eq "$("${enter[@]}" /usr/bin/python3 -c "$connect_abstract")" "Connection refused" \
    "$what: connect to a host abstract socket"
}

qemu_pid=$(pgrep -f "qemu-system-x86_64 .*$dir/" | head -1) || fail "no QEMU for $dir"
check_jailed QEMU "$qemu_pid"
# Its own filter is stacked on the jail's (QEMU's -sandbox on).
expect_eq "$(awk '/^Seccomp_filters:/{print $2}' "/proc/$qemu_pid/status")" 2 "QEMU: seccomp filters"
broker_pid=$(pgrep -f "runvm-broker .*$dir/" | head -1) || fail "no broker for $dir"
# It serves the rootfs (virtio-fs): the fs device's CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER,
# CAP_FSETID, in its own user namespace only (e2e_jail_broker checks more).
check_jailed runvm-broker "$broker_pid" 000000000000001b

# A second VM at the same time: other ids, and no reach into the first one's processes (the
# kernel's ptrace rule lets one uid read another process of the same uid: a shared jail uid
# would let one compromised QEMU read every other VM's guest memory).
"$RUNVM" --root "$root" create --bundle "$tmp/b" j3 </dev/null
"$RUNVM" --root "$root" start j3
dir3=$(sandbox_dir "$root" j3)
vm3_uid=$(stat -c %u "$dir3/jail")
[ "$vm3_uid" != "$vm_uid" ] || fail "two VMs share the uid $vm_uid"
qemu3_pid=$(pgrep -f "qemu-system-x86_64 .*$dir3/" | head -1) || fail "no QEMU for $dir3"
expect_eq "$(awk '/^Uid:/{print $2}' "/proc/$qemu3_pid/status")" "$vm3_uid" "second QEMU: uid"
as_vm1=(setpriv --reuid="$vm_uid" --regid="$vm_gid" --clear-groups --inh-caps=-all --)
as_vm3=(setpriv --reuid="$vm3_uid" --regid="$vm3_uid" --clear-groups --inh-caps=-all --)
# The control: its own uid reads its maps (the check below could not fail otherwise).
"${as_vm3[@]}" head -c 1 "/proc/$qemu3_pid/maps" >/dev/null ||
  fail "the second VM's uid cannot read its own QEMU's maps: the cross-VM check proves nothing"
if "${as_vm1[@]}" head -c 1 "/proc/$qemu3_pid/maps" >/dev/null 2>"$tmp/cross.err" ||
   "${as_vm1[@]}" head -c 1 "/proc/$qemu3_pid/mem" >/dev/null 2>>"$tmp/cross.err"; then
  fail "the first VM's uid reads the second VM's QEMU"
fi
expect_contains "$(cat "$tmp/cross.err")" "Permission denied" "cross-VM /proc/<pid>/maps and mem"
"$RUNVM" --root "$root" delete --force j3
expect_gone "$root" j3 "after delete --force of the second VM"

expect_eq "$("$RUNVM" --root "$root" exec j1 sh -c 'echo jailed-exec-ok')" jailed-exec-ok "exec"
stop_and_delete "$root" j1 "after delete"

# A jail user that does not exist: the start fails and says so.
printf 'jail: on\njail_user: runvm-e2e-missing\n' >"$tmp/config.yaml"
set +e
RUNVM_CONFIG=$tmp/config.yaml "$RUNVM" --root "$root" run --bundle "$tmp/b" j2 </dev/null \
  >"$tmp/j2.out" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "run with a missing jail user succeeded"
expect_contains "$(cat "$tmp/j2.out")" "jail user runvm-e2e-missing does not exist (scripts/setup.sh creates it)" \
  "missing jail user"
"$RUNVM" --root "$root" delete --force j2 2>/dev/null || true
expect_gone "$root" j2 "after a failed jailed start"
echo "e2e_jail: ok"
