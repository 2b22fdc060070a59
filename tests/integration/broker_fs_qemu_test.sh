#!/usr/bin/env bash
# virtio-fs through runvm-broker with QEMU (TCG, microvm, vhost-user-fs-device) as the
# frontend, in one boot: the guest mounts the share and runs the POSIX suite, whose listing
# must equal the same suite's on a host directory; host and guest see each other's edits;
# escape attempts never reach a canary beside the share. Exit 77 when QEMU, the guest
# kernel or a tool is missing. usage: broker_fs_qemu_test.sh RUNVM_BROKER_BINARY
set -euo pipefail
broker=$1
here=$(cd "$(dirname "$0")" && pwd)

for tool in qemu-system-x86_64 cpio gcc; do
    command -v $tool >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done
[ -x /bin/busybox ] && file -L /bin/busybox | grep -q 'statically linked' ||
    { echo "SKIP: static busybox missing (busybox-static)"; exit 77; }
kernel_dir=${RUNVM_KERNEL_CACHE:-/var/cache/runvm/kernel}
[ -s "$kernel_dir/vmlinuz" ] || { echo "SKIP: no guest kernel (run scripts/guest-kernel.sh)"; exit 77; }
release=$(cat "$kernel_dir/release")
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

mkdir -p "$work/initrd"/{bin,proc,sys,dev,mnt,tmp,lib/modules} "$work/bbin"
cp /bin/busybox "$work/initrd/bin/busybox"
gcc -static -O2 -o "$work/fs-helper" "$here/broker_fs_helper.c"
cp "$work/fs-helper" "$work/initrd/bin/fs-helper"
cp "$here/broker_fs_posix_suite.sh" "$work/initrd/bin/suite.sh"
for m in virtio_ring virtio virtio_mmio fuse virtiofs; do
    cp "$(find "$kernel_dir/modules/$release" -name "$m.ko" | head -1)" "$work/initrd/lib/modules/"
done
cp "$here/broker_fs_guest_init.sh" "$work/initrd/init"
chmod +x "$work/initrd/init" "$work/initrd/bin/suite.sh"
(cd "$work/initrd" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz"

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
    --fs "$work/fs.vu,dir=$work/share,tag=share,cache=auto" &
broker_pid=$!
pids+=($broker_pid)
for i in $(seq 50); do [ -S "$work/fs.vu" ] && break; sleep 0.1; done

# The live host edit, once the guest says it is ready.
( for i in $(seq 1200); do [ -e "$work/share/guest-ready" ] && break; sleep 0.1; done
  echo "made on the host while mounted" > "$work/share/host-live.txt" ) &
pids+=($!)

tsc_khz=$(awk '/^cpu MHz/{printf "%d", $4*1000; exit}' /proc/cpuinfo)
start=$(date +%s)
qemu-system-x86_64 -accel tcg -M microvm -m 512 -smp 1 -nodefaults -no-user-config \
    -display none -no-reboot -serial "file:$work/serial.log" \
    -object memory-backend-memfd,id=mem,size=512M,share=on -machine memory-backend=mem \
    -chardev socket,id=fs,path="$work/fs.vu" -device vhost-user-fs-device,chardev=fs,tag=share \
    -kernel "$kernel_dir/vmlinuz" -initrd "$work/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet tsc_early_khz=$tsc_khz" &
qemu_pid=$!
pids+=($qemu_pid)
for i in $(seq 1800); do kill -0 $qemu_pid 2>/dev/null || break; sleep 0.1; done
echo "setup $(( start - t0 )) s, guest ran $(( $(date +%s) - start )) s"

status=0
if kill -0 $qemu_pid 2>/dev/null; then
    echo "FAIL: QEMU still running after 180 s"; status=1
fi
tr -d '\r' < "$work/serial.log" > "$work/serial.txt"
grep '^S:' "$work/serial.txt" > "$work/guest.out" || true
check() { # name expected actual
    if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: want '$2' got '$3'"; status=1; fi
}
value() { grep -a "^$1=" "$work/serial.txt" | head -1 | cut -d= -f2-; }
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

kill -TERM $broker_pid
rc=0; wait $broker_pid || rc=$?
check "broker exit code on SIGTERM" 0 "$rc"
[ -e "$work/fs.vu" ] && { echo "FAIL: fs.vu left behind"; status=1; }
if [ $status -ne 0 ]; then
    echo "--- broker log"; tail -40 "$work/broker.log"; echo "--- serial"; tail -60 "$work/serial.txt"
fi
exit $status
