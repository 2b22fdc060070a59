#!/usr/bin/env bash
# virtio-net benchmark: TCP throughput and ping RTT from a QEMU guest (TCG, microvm) through
# runvm-broker's net device + tc mirroring to a peer namespace, beside the same between two
# namespaces joined directly by a veth pair. Prints the figures; the lead copies them into
# docs/benchmarks.md. Needs root.
# usage: scripts/bench/net.sh [MIB=256] [PINGS=20]   (env BUILD_DIR, default build)
set -euo pipefail
mib=${1:-256}
pings=${2:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
broker=$build/broker/runvm-broker
netplumb=$build/shim/network/runvm-netplumb
kernel_dir=${RUNVM_KERNEL_CACHE:-/var/cache/runvm/kernel}
release=$(cat "$kernel_dir/release")
[ "$(id -u)" = 0 ] || { echo "net.sh: needs root"; exit 1; }

work=$(mktemp -d /tmp/runvm-bench-net.XXXXXX)
ns=(rvbA$$ rvbB$$ rvbC$$ rvbD$$)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for n in "${ns[@]}"; do ip netns del "$n" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

gcc -static -O2 -o "$work/net-io" "$root/tests/integration/broker_net_io.c"
mkdir -p "$work/initrd"/{bin,proc,sys,dev,tmp,lib/modules}
cp /bin/busybox "$work/initrd/bin/busybox"
cp "$work/net-io" "$work/initrd/bin/net-io"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_mmio \
         failover net_failover virtio_net; do
    cp "$(find "$kernel_dir/modules/$release" -name "$m.ko" | head -1)" "$work/initrd/lib/modules/"
done
cp "$root/scripts/bench/net_guest_init.sh" "$work/initrd/init"
(cd "$work/initrd" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz"

pair() { # nsX nsY: a veth pair with 10.97.0.1 and .2
    ip netns add "$1"; ip netns add "$2"
    ip link add va netns "$1" type veth peer name vb netns "$2"
    ip -n "$1" addr add 10.97.0.1/24 dev va; ip -n "$1" link set va up
    ip -n "$2" addr add 10.97.0.2/24 dev vb; ip -n "$2" link set vb up
}

# Direct: C -> D over the veth pair, same tools.
pair "${ns[2]}" "${ns[3]}"
ip netns exec "${ns[3]}" "$work/net-io" sink 7001 > "$work/direct.sink" &
direct_sink=$!
pids+=($direct_sink)
sleep 0.3
direct_rtt=$(ip netns exec "${ns[2]}" busybox ping -c "$pings" -i 0.2 10.97.0.2 | tail -1)
ip netns exec "${ns[2]}" "$work/net-io" send 10.97.0.2 7001 "$mib"
wait $direct_sink
# Through the VM: A (plumbed, broker, guest) -> B.
pair "${ns[0]}" "${ns[1]}"
"$netplumb" plumb "/var/run/netns/${ns[0]}" > "$work/plumb.json"
read -r tap mac < <(python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))[0]; print(i["tap"], i["mac"])' "$work/plumb.json")
ip netns exec "${ns[0]}" "$broker" --log-file "$work/broker.log" \
    --net "$work/net.vu,tap=$tap,mac=$mac,mtu=1500" &
pids+=($!)
for i in $(seq 50); do [ -S "$work/net.vu" ] && break; sleep 0.1; done
ip netns exec "${ns[1]}" "$work/net-io" sink 7001 > "$work/vm.sink" &
sink_pid=$!
pids+=($sink_pid)
tsc_khz=$(awk '/^cpu MHz/{printf "%d", $4*1000; exit}' /proc/cpuinfo)
qemu-system-x86_64 -accel tcg -M microvm -m 512 -smp 1 -nodefaults -no-user-config \
    -display none -no-reboot -serial "file:$work/serial.log" \
    -object memory-backend-memfd,id=mem,size=512M,share=on -machine memory-backend=mem \
    -chardev socket,id=n0,path="$work/net.vu" -netdev vhost-user,id=net0,chardev=n0 \
    -device virtio-net-device,netdev=net0,mac="$mac" \
    -kernel "$kernel_dir/vmlinuz" -initrd "$work/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet tsc_early_khz=$tsc_khz rvnet.addr=10.97.0.1/24 rvnet.peer=10.97.0.2 rvnet.mib=$mib rvnet.pings=$pings" &
qemu_pid=$!
pids+=($qemu_pid)
wait $qemu_pid
wait $sink_pid

echo "virtio-net benchmark: $mib MiB guest -> peer, $pings pings (QEMU TCG guest; host $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
echo "direct veth:   $(cat "$work/direct.sink")  rtt: $direct_rtt"
echo "through VM:    $(cat "$work/vm.sink")  rtt: $(grep -a '^RTT' "$work/serial.log" | cut -d' ' -f2- | tr -d '\r')"
