#!/usr/bin/env bash
# virtio-net through runvm-broker with QEMU (TCG, microvm) as the frontend, in one boot:
# namespaces A and B joined by a veth pair, A's veth plumbed to a tap by runvm-netplumb
# (tc mirred both ways), the broker serving that tap inside A, and the guest taking A's
# veth's MAC and address. From the guest: ping B, a 16 MiB TCP echo through a server in B,
# and a server in the guest that B reads 4 MiB from. Exit 77 when root, QEMU, the guest
# kernel, a module or a tool is missing.
# usage: broker_net_qemu_test.sh RUNVM_BROKER RUNVM_NETPLUMB
set -euo pipefail
broker=$1
netplumb=$2
here=$(cd "$(dirname "$0")" && pwd)

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
. "$here/broker_qemu_lib.sh"
require_guest_tools ip python3 sha256sum
[ -c /dev/net/tun ] || { echo "SKIP: /dev/net/tun missing (modprobe tun)"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/runvm-broker-net.XXXXXX")
ns_a=rvnetA$$
ns_b=rvnetB$$
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del $ns_a 2>/dev/null || true
    ip netns del $ns_b 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

make_guest_initrd "$here/broker_net_guest_init.sh" "$here/broker_net_io.c" net-io \
    virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_mmio \
    failover net_failover virtio_net

ip netns add $ns_a
ip netns add $ns_b
ip link add va netns $ns_a type veth peer name vb netns $ns_b
ip -n $ns_a addr add 10.98.0.1/24 dev va
ip -n $ns_a link set va up
ip -n $ns_b addr add 10.98.0.2/24 dev vb
ip -n $ns_b link set vb up
ip -n $ns_b link set lo up

if ! "$netplumb" plumb /var/run/netns/$ns_a > "$work/plumb.json" 2> "$work/plumb.err"; then
    cat "$work/plumb.err"
    if grep -q 'No such file\|not supported' "$work/plumb.err"; then
        echo "SKIP: tc ingress/u32/mirred missing (modprobe sch_ingress cls_u32 act_mirred)"; exit 77
    fi
    echo "FAIL: plumbing"; exit 1
fi
read -r tap mac < <(python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))[0]; print(i["tap"], i["mac"])' "$work/plumb.json")
echo "plumbed: va ($mac) <-> $tap"

ip netns exec $ns_a "$broker" --log-level info --log-file "$work/broker.log" \
    --net "$work/net.vu,tap=$tap,mac=$mac,mtu=1500" &
broker_pid=$!
pids+=($broker_pid)
for i in $(seq 50); do [ -S "$work/net.vu" ] && break; sleep 0.1; done

ip netns exec $ns_b python3 "$here/broker_net_peer.py" echo 7000 &
echo_pid=$!
pids+=($echo_pid)
ip netns exec $ns_b python3 "$here/broker_net_peer.py" fetch 10.98.0.1 8000 "$work/served.bin" &
fetch_pid=$!
pids+=($fetch_pid)

boot_guest "rvnet.addr=10.98.0.1/24 rvnet.peer=10.98.0.2" \
    -chardev socket,id=n0,path="$work/net.vu" -netdev vhost-user,id=net0,chardev=n0 \
    -device virtio-net-device,netdev=net0,mac="$mac"

wait_guest
wait $echo_pid || { echo "FAIL: echo server in B"; status=1; }
wait $fetch_pid || { echo "FAIL: B reading from the guest's server"; status=1; }

echo "--- guest serial"; grep -aE 'GUEST|_SHA=|PING=' "$work/serial.log" || true
check "guest MAC is A's veth's" "$mac" "$(value GUEST_MAC)"
check "ping B from the guest" ok "$(value PING)"
check "16 MiB TCP echo through B" "$(value ECHO_SENT_SHA)" "$(value ECHO_BACK_SHA)"
served=none
[ -f "$work/served.bin" ] && served=$(sha256sum < "$work/served.bin" | cut -d' ' -f1)
check "4 MiB from the guest's server to B" "$(value SERVE_SHA)" "$served"

kill -TERM $broker_pid
rc=0; wait $broker_pid || rc=$?
check "broker exit code on SIGTERM" 0 "$rc"
[ -e "$work/net.vu" ] && { echo "FAIL: net.vu left behind"; status=1; }
cleaned=$("$netplumb" cleanup /var/run/netns/$ns_a)
check "cleanup removed the tap and the veth's qdisc" '{"qdiscs_removed":1,"taps_removed":1}' "$cleaned"
if [ $status -ne 0 ]; then
    echo "--- broker log"; tail -40 "$work/broker.log"; echo "--- serial"; tail -40 "$work/serial.log"
fi
exit $status
