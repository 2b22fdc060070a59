#!/usr/bin/env bash
# virtio-fs through runvm-broker with QEMU (TCG, microvm, vhost-user-fs-device) as the
# frontend, in one boot: the guest mounts the share and runs the POSIX suite, whose listing
# must equal the same suite's on a host directory; host and guest see each other's edits;
# escape attempts never reach a canary beside the share; the broker's mount namespace holds
# only the share. Exit 77 when QEMU, the guest
# kernel or a tool is missing. usage: broker_fs_qemu_test.sh RUNVM_BROKER_BINARY
set -euo pipefail
broker=$1
here=$(cd "$(dirname "$0")" && pwd)

. "$here/broker_qemu_lib.sh"
require_guest_tools
[ "$(id -u)" = 0 ] || { echo "SKIP: the suite's chown needs root"; exit 77; }

t0=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/runvm-broker-fs.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/bbin"
initrd_extra=("$here/broker_fs_posix_suite.sh:bin/suite.sh")
make_guest_initrd "$here/broker_fs_guest_init.sh" "$here/broker_fs_helper.c" fs-helper \
    virtio_ring virtio virtio_mmio fuse virtiofs

# The share, and a canary beside it that no guest request may reach.
mkdir "$work/share" "$work/hostref"
echo "outside the share" > "$work/canary"
echo "made on the host before boot" > "$work/share/from_host.txt"
ln -s "$work/canary" "$work/share/abs"
ln -s ../canary "$work/share/rel"
mkdir "$work/share/dotdot" "$work/share/big"
"$work/fs-helper" mkmany "$work/share/big" 10000

# The reference: the same suite with the same busybox applets on a host directory.
/bin/busybox --install -s "$work/bbin"
PATH="$work/bbin:$PATH" /bin/busybox sh "$here/broker_fs_posix_suite.sh" "$work/hostref" \
    "$work/fs-helper" "$work/share/big" | grep '^S:' > "$work/host.out"

"$broker" --log-level info --log-file "$work/broker.log" \
    --fs "$work/fs.vu,dir=$work/share,tag=share,cache=auto,allow_setid=on" &
broker_pid=$!
pids+=($broker_pid)
for i in $(seq 50); do [ -S "$work/fs.vu" ] && break; sleep 0.1; done

# The live host edit, once the guest says it is ready.
( for i in $(seq 1200); do [ -e "$work/share/guest-ready" ] && break; sleep 0.1; done
  echo "made on the host while mounted" > "$work/share/host-live.txt" ) &
pids+=($!)

start=$(date +%s)
boot_guest "" -chardev socket,id=fs,path="$work/fs.vu" -device vhost-user-fs-device,chardev=fs,tag=share
wait_guest 180
echo "setup $(( start - t0 )) s, guest ran $(( $(date +%s) - start )) s"
tr -d '\r' < "$work/serial.log" > "$work/serial.txt"
grep '^S:' "$work/serial.txt" > "$work/guest.out" || true
echo "guest uptime: suite $(value T_SUITE_START) -> $(value T_SUITE_END) s"
if diff -u "$work/host.out" "$work/guest.out"; then
    echo "ok: POSIX suite identical on the share and on a host directory ($(wc -l < "$work/host.out") lines)"
else
    echo "FAIL: POSIX suite differs (host -, guest +)"; status=1
fi
grep -q '^S: end' "$work/guest.out" || { echo "FAIL: suite did not finish in the guest"; status=1; }
check "host file seen in the guest" "made on the host before boot" "$(value HOST_FILE)"
check "host edit seen while mounted" "made on the host while mounted" "$(value HOST_LIVE)"
check "guest edit seen on the host" "written by the guest through virtio-fs" \
    "$(cat "$work/share/guest_written.txt" 2>/dev/null)"
check "escape attempts" "none" "$(value ESCAPE)"
check "canary untouched" "outside the share" "$(cat "$work/canary")"
check "guest unmounted cleanly" 1 "$(grep -c 'GUEST: unmounted' "$work/serial.txt")"
# The guest's tree, seen from the host, equals the reference tree.
tree_sum() {
    (cd "$1" && find . \( -type f -o -type l \) ! -path './many/*' | sort | while read -r p; do
        if [ -L "$p" ]; then echo "$p -> $(readlink "$p")"; else echo "$p $(md5sum < "$p")"; fi
     done; ls many | wc -l)
}
check "guest-made tree on the host" "$(tree_sum "$work/hostref/suite" | md5sum)" \
    "$(tree_sum "$work/share/suite" | md5sum)"

# The broker served all of the above from its own mount namespace (docs/virtiofs.md,
# Confinement): a read-only tmpfs root, its /proc and the share; no host path reachable.
check "broker's mount points" "$(printf '%s\n' / /proc "$(realpath "$work/share")" | sort | tr '\n' ' ')" \
    "$(awk '{print $5}' "/proc/$broker_pid/mountinfo" | sort | tr '\n' ' ')"
check "broker's root" "tmpfs ro" "$(awk '$5 == "/" {print $(NF-2), substr($6, 1, 2)}' "/proc/$broker_pid/mountinfo")"
reach() { [ -e "/proc/$broker_pid/root$1" ] && echo reachable || echo unreachable; }
check "the share in the broker's root" reachable "$(reach "$(realpath "$work/share")/from_host.txt")"
check "host /etc/passwd from the broker" unreachable "$(reach /etc/passwd)"
check "the canary from the broker" unreachable "$(reach "$(realpath "$work")/canary")"

kill -TERM $broker_pid
rc=0; wait $broker_pid || rc=$?
check "broker exit code on SIGTERM" 0 "$rc"
[ -e "$work/fs.vu" ] && { echo "FAIL: fs.vu left behind"; status=1; }
if [ $status -ne 0 ]; then
    echo "--- broker log"; tail -40 "$work/broker.log"; echo "--- serial"; tail -60 "$work/serial.txt"
fi
exit $status
