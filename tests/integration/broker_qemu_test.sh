#!/usr/bin/env bash
# QEMU (TCG, microvm) as the vhost-user frontend of runvm-broker, in one boot: the guest
# checks a file on the broker's ext4 blk device and writes one the test finds afterwards,
# and 16 MiB go each way over the broker's vsock (guest -> host via <uds>_6000, host ->
# guest via CONNECT 5000). Exit 77 when QEMU, the guest kernel or a tool is missing.
# usage: broker_qemu_test.sh RUNVM_BROKER_BINARY
set -euo pipefail
broker=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

. "$here/broker_qemu_lib.sh"
require_guest_tools mke2fs debugfs python3 sha256sum

work=$(mktemp -d "${TMPDIR:-/tmp}/runvm-broker-qemu.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Guest image: busybox, the virtio modules, the vsock helper, /init.
make_guest_initrd "$here/broker_guest_init.sh" "$here/broker_vsock_io.c" vsock-io \
    virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_mmio \
    virtio_console vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport virtio_blk

# Disk: ext4 with a file of known checksum.
mkdir "$work/disk"
head -c 1048576 /dev/urandom > "$work/disk/known.bin"
blk_sha=$(sha256sum < "$work/disk/known.bin" | cut -d' ' -f1)
mke2fs -q -t ext4 -d "$work/disk" -F "$work/disk.img" 64M

head -c 16777216 /dev/urandom > "$work/h2g.bin"
h2g_sha=$(sha256sum < "$work/h2g.bin" | cut -d' ' -f1)

"$broker" --log-level info --log-file "$work/broker.log" \
    --vsock "$work/vsock.vu,uds=$work/v.sock,cid=3" \
    --blk "$work/blk.vu,path=$work/disk.img" \
    --console "$work/console.vu,log=$work/console.log" &
broker_pid=$!
pids+=($broker_pid)
for i in $(seq 50); do [ -S "$work/blk.vu" ] && [ -S "$work/vsock.vu" ] && break; sleep 0.1; done

python3 "$here/broker_host_vsock.py" serve "$work/v.sock_6000" "$work/g2h.bin" &
pids+=($!)
serve_pid=$!

boot_guest "" -chardev socket,id=vsock,path="$work/vsock.vu" \
    -device vhost-user-vsock-device,chardev=vsock \
    -chardev socket,id=blk,path="$work/blk.vu" -device vhost-user-blk,chardev=blk

python3 "$here/broker_host_vsock.py" send "$work/v.sock" 5000 "$work/h2g.bin" &
send_pid=$!
pids+=($send_pid)

# The guest powers off when done; TCG boots in ~2-3 s, the rest is 32 MiB of vsock.
wait_guest
wait $send_pid || { echo "FAIL: host -> guest send"; status=1; }
wait $serve_pid || { echo "FAIL: guest -> host receive"; status=1; }

echo "--- guest serial"; grep -E 'GUEST|_SHA=' "$work/serial.log" || true
check "blk file checksum in the guest" "$blk_sha" "$(value BLK_SHA)"
check "16 MiB host -> guest over vsock" "$h2g_sha" "$(value H2G_SHA)"
g2h_host=$(sha256sum < "$work/g2h.bin" 2>/dev/null | cut -d' ' -f1)
check "16 MiB guest -> host over vsock" "$(value G2H_SHA)" "$g2h_host"
check "file written by the guest" "written by the guest through runvm-broker" \
    "$(debugfs -R 'cat /written.txt' "$work/disk.img" 2>/dev/null)"

kill -TERM $broker_pid
rc=0; wait $broker_pid || rc=$?
check "broker exit code on SIGTERM" 0 "$rc"
for s in vsock.vu blk.vu console.vu v.sock; do
    [ -e "$work/$s" ] && { echo "FAIL: $s left behind"; status=1; }
done
if [ $status -ne 0 ]; then
    echo "--- broker log"; tail -40 "$work/broker.log"; echo "--- serial"; tail -40 "$work/serial.log"
fi
exit $status
