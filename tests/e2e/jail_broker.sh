#!/usr/bin/env bash
# e2e of the jailed broker (docs/security.md, "Jail: the broker"): with RUNVM_JAIL=on, while a
# container with a virtio-fs rootfs and a volume runs, its runvm-broker is checked as an
# attacker inside it would try it (host uid the VM's own, capabilities only the fs device's
# and only in its own user namespace, other user/network/mount namespaces, /etc/shadow out of
# reach, a host abstract socket refused), and the file server keeps runc's ownership: a file
# guest root makes in the rootfs is host root's, a chown to 1000 gives host uid 1000, and a
# set-user-ID bit asked for in a volume does not reach the host. Then the same with an overlayfs
# rootfs (Docker's, containerd's), which cannot be idmapped: the broker maps every id to itself
# and is still not root but the VM's uid, keeping the 4 capabilities as ambient ones.
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
grep -q '^runvm:' /etc/subuid || skip "runvm has no /etc/subuid range (scripts/setup.sh adds one)"
jail_uid=$(id -u runvm)
tmp=$(mktemp -d /tmp/runvm-e2e.XXXXXX)
chmod 0755 "$tmp"
listener_pid=""
trap 'for c in $("$RUNVM" --root "$root" list -q 2>/dev/null); do "$RUNVM" --root "$root" delete --force "$c"; done; [ -z "$listener_pid" ] || kill "$listener_pid" 2>/dev/null; umount "$tmp/bo/rootfs" 2>/dev/null || true; rm -rf "$tmp"' EXIT
root=$tmp/state
use_qemu_guest "$agent" "$broker" "$tmp/image" || exit 77
# Each container here is checked through its own VM's processes and directory: no pooled
# VMs (template: auto, e2e_template_pool).
export RUNVM_TEMPLATE=off
export RUNVM_JAIL=on

host_abstract_listener "runvm-e2e-jail-broker-$$" "$tmp/listener.log"

mkdir -p "$tmp/vol"
chmod 0777 "$tmp/vol"
# The guest's root may change owners (CAP_CHOWN) and modes of files it does not own.
caps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_KILL"]'
make_bundle "$tmp/b" '["sh","-c","trap \"exit 0\" TERM; while true; do sleep 0.1; done"]' "
c['root']['readonly'] = False
for k in ('bounding', 'effective', 'permitted'):
    c['process']['capabilities'][k] = $caps
c['mounts'].append({'destination': '/vol', 'type': 'bind', 'source': '$tmp/vol', 'options': ['rbind', 'rw']})"
mkdir -p "$tmp/b/rootfs/vol"
"$RUNVM" --root "$root" create --bundle "$tmp/b" jb </dev/null
"$RUNVM" --root "$root" start jb
dir=$(sandbox_dir "$root" jb)
# The VM's own ids (e2e_jail checks where they come from).
jail_uid=$(stat -c %u "$dir/jail")
jail_gid=$(stat -c %g "$dir/jail")
[ "$jail_uid" != "$(id -u runvm)" ] && [ "$jail_uid" != 0 ] || fail "the VM's uid is $jail_uid"

broker_pid=$(pgrep -f "runvm-broker .*$dir/" | head -1) || fail "no broker for $dir"
status=$(cat "/proc/$broker_pid/status")
echo "runvm-broker (pid $broker_pid): $(grep -E '^(Uid|Gid|Groups|CapEff|CapPrm|CapBnd|CapAmb|NoNewPrivs|Seccomp|Seccomp_filters):' <<<"$status" | tr '\n\t' '; ')"
echo "  namespaces: $(for n in user mnt net; do printf '%s ' "$(readlink "/proc/$broker_pid/ns/$n")"; done)"
expect_eq "$(awk '/^Uid:/{print $2, $3, $4, $5}' <<<"$status")" "$jail_uid $jail_uid $jail_uid $jail_uid" "broker: host uids"
expect_eq "$(awk '/^Gid:/{print $2, $3, $4, $5}' <<<"$status")" "$jail_gid $jail_gid $jail_gid $jail_gid" "broker: host gids"
expect_eq "$(awk '/^Groups:/{print $2}' <<<"$status")" "" "broker: supplementary groups"
# CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID: the fs device's, in its user namespace.
expect_eq "$(awk '/^CapEff:/{print $2}' <<<"$status")" 000000000000001b "broker: CapEff"
expect_eq "$(awk '/^CapBnd:/{print $2}' <<<"$status")" 000000000000001b "broker: CapBnd"
expect_eq "$(awk '/^CapAmb:/{print $2}' <<<"$status")" 0000000000000000 "broker: CapAmb"
expect_eq "$(awk '/^NoNewPrivs:/{print $2}' <<<"$status")" 1 "broker: no_new_privs"
expect_eq "$(awk '/^Seccomp:/{print $2}' <<<"$status")" 2 "broker: seccomp filter mode"
for n in user net mnt; do
  [ "$(readlink "/proc/$broker_pid/ns/$n")" != "$(readlink "/proc/self/ns/$n")" ] ||
    fail "broker: in the host's $n namespace"
done
expect_eq "$(cat "/proc/$broker_pid/uid_map" | tr -s ' ' | sed 's/^ //')" "0 $jail_uid 1
1 $(awk -F: '$1=="runvm"{print $2; exit}' /etc/subuid) 65535" "broker: uid_map"
[ ! -e "/proc/$broker_pid/root/etc/shadow" ] || fail "broker: /etc/shadow in its root"
enter=(nsenter --target "$broker_pid" --mount --net -S "$jail_uid" -G "$jail_gid" --)
if "${enter[@]}" /usr/bin/cat /etc/shadow >/dev/null 2>"$tmp/shadow.err"; then
  fail "broker: /etc/shadow readable"
fi
expect_contains "$(cat "$tmp/shadow.err")" "No such file or directory" "broker: /etc/shadow"
expect_eq "$("${enter[@]}" /usr/bin/python3 -c "$connect_abstract")" "Connection refused" \
  "broker: connect to a host abstract socket"
# With its uid in the host's namespaces: the host's shadow is not readable either.
if setpriv --reuid="$jail_uid" --regid="$jail_gid" --clear-groups cat /etc/shadow >/dev/null 2>&1; then
  fail "the jail user reads the host's /etc/shadow"
fi

# The file server: ownership as runc leaves it, set-ID bits kept out of volumes.
bb="busybox"
"$RUNVM" --root "$root" exec jb sh -c "touch /by-root && touch /given && $bb chown 1000:1000 /given"
expect_eq "$(stat -c '%u:%g' "$tmp/b/rootfs/by-root")" 0:0 "a file guest root made in the rootfs, on the host"
expect_eq "$(stat -c '%u:%g' "$tmp/b/rootfs/given")" 1000:1000 "a rootfs file chowned to 1000, on the host"
expect_eq "$("$RUNVM" --root "$root" exec jb $bb stat -c '%u:%g' /by-root /given | tr '\n' ' ')" "0:0 1000:1000 " \
  "the same owners in the guest"
"$RUNVM" --root "$root" exec jb sh -c "touch /vol/s && $bb chmod 4755 /vol/s; $bb chown 1000 /vol/s 2>/dev/null; true"
expect_eq "$(stat -c '%u:%g %a' "$tmp/vol/s")" "0:0 755" "a set-user-ID file made in a volume, on the host"
# A file the host's root owns and the jail user could not write is written through the share.
echo host > "$tmp/vol/host-root"
chmod 0600 "$tmp/vol/host-root"
"$RUNVM" --root "$root" exec jb sh -c 'echo guest >> /vol/host-root'
expect_eq "$(cat "$tmp/vol/host-root")" "host
guest" "guest root writes a host root 0600 file in a volume"

# An overlayfs rootfs: the broker serves it with host ids, as the VM's uid, not root.
make_bundle "$tmp/bo" '["sh","-c","trap \"exit 0\" TERM; while true; do sleep 0.1; done"]' "
c['root']['readonly'] = False
for k in ('bounding', 'effective', 'permitted'):
    c['process']['capabilities'][k] = $caps"
mv "$tmp/bo/rootfs" "$tmp/bo/lower"
mkdir -p "$tmp/bo/rootfs" "$tmp/bo/upper" "$tmp/bo/work"
mount -t overlay overlay -o "lowerdir=$tmp/bo/lower,upperdir=$tmp/bo/upper,workdir=$tmp/bo/work" \
  "$tmp/bo/rootfs"
"$RUNVM" --root "$root" create --bundle "$tmp/bo" jo </dev/null
"$RUNVM" --root "$root" start jo
dir_o=$(sandbox_dir "$root" jo)
uid_o=$(stat -c %u "$dir_o/jail")
[ "$uid_o" != "$jail_uid" ] || fail "two VMs share the uid $uid_o"
broker_o=$(pgrep -f "runvm-broker .*$dir_o/" | head -1) || fail "no broker for $dir_o"
status=$(cat "/proc/$broker_o/status")
echo "runvm-broker, host ids (pid $broker_o): $(grep -E '^(Uid|Gid|CapEff|CapPrm|CapBnd|CapAmb|NoNewPrivs|Seccomp):' <<<"$status" | tr '\n\t' '; ')"
expect_eq "$(cat "/proc/$broker_o/uid_map" | tr -s ' ' | sed 's/^ //')" "0 0 4294967295" \
  "host-ids broker: uid_map"
expect_eq "$(awk '/^Uid:/{print $2, $3, $4, $5}' <<<"$status")" "$uid_o $uid_o $uid_o $uid_o" \
  "host-ids broker: host uids (not root)"
expect_eq "$(awk '/^Gid:/{print $2, $3, $4, $5}' <<<"$status")" "$uid_o $uid_o $uid_o $uid_o" \
  "host-ids broker: host gids"
expect_eq "$(awk '/^CapEff:/{print $2}' <<<"$status")" 000000000000001b "host-ids broker: CapEff"
expect_eq "$(awk '/^CapPrm:/{print $2}' <<<"$status")" 000000000000001b "host-ids broker: CapPrm"
expect_eq "$(awk '/^CapBnd:/{print $2}' <<<"$status")" 000000000000001b "host-ids broker: CapBnd"
expect_eq "$(awk '/^NoNewPrivs:/{print $2}' <<<"$status")" 1 "host-ids broker: no_new_privs"
expect_eq "$(awk '/^Seccomp:/{print $2}' <<<"$status")" 2 "host-ids broker: seccomp"
[ "$(readlink "/proc/$broker_o/ns/user")" != "$(readlink /proc/self/ns/user)" ] ||
  fail "host-ids broker: in the host's user namespace"
# runc's ownership all the same: guest root's files are host root's, a chown is kept.
"$RUNVM" --root "$root" exec jo sh -c "touch /by-root && touch /given && $bb chown 1000:1000 /given && $bb mkdir /d"
expect_eq "$(stat -c '%u:%g' "$tmp/bo/upper/by-root" "$tmp/bo/upper/given" "$tmp/bo/upper/d" | tr '\n' ' ')" \
  "0:0 1000:1000 0:0 " "files guest root made in an overlay rootfs, on the host"
stop_and_delete "$root" jo "after delete (overlay rootfs)"
umount "$tmp/bo/rootfs"

stop_and_delete "$root" jb "after delete"
echo "e2e_jail_broker: ok"
