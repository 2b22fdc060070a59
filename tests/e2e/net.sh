#!/usr/bin/env bash
# e2e of container networking (one QEMU TCG boot): namespaces A and B joined by a veth pair
# (addresses only there), a container whose config.json names A as its network namespace.
# Leftovers of a "crashed" earlier sandbox in A (a tap + qdiscs) are removed first; in the
# container: A's MAC, MTU, address and routes on eth0, ping to B, a 16 MiB TCP echo through
# a server in B (sha256), then a server in the container that B reads 16 MiB from. After:
# no tap, qdisc, mount, process or directory left.
set -euo pipefail
RUNVM=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_root
require_tools qemu-system-x86_64 ip tc gcc python3 sha256sum
require_static_busybox
[ -c /dev/net/tun ] || skip "/dev/net/tun missing"
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
netplumb=$build/shim/network/runvm-netplumb
require_built "$agent" "$broker" "$netplumb"

tmp=$(mktemp -d /tmp/runvm-e2e-net.XXXXXX)
ns_a=rvnetA$$
ns_b=rvnetB$$
root=$tmp/state
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for c in $("$RUNVM" --root "$root" list -q 2>/dev/null); do
    "$RUNVM" --root "$root" delete --force "$c" || true
  done
  ip netns del $ns_a 2>/dev/null || true
  ip netns del $ns_b 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
image=$(guest_image "$agent" "$tmp/image") || exit 77
export RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio RUNVM_BROKER=$broker
export RUNVM_HYPERVISOR=qemu
export RUNVM_BOOT_TIMEOUT_MS=${RUNVM_BOOT_TIMEOUT_MS:-120000}

mac=$(veth_namespaces $ns_a $ns_b 10.98.0 10.97.0.0)
# What a killed sandbox leaves: a persistent tap and the veth's ingress qdisc + filter.
if ! "$netplumb" plumb /var/run/netns/$ns_a >/dev/null 2>"$tmp/plumb.err"; then
  cat "$tmp/plumb.err" >&2
  grep -q 'No such file\|not supported' "$tmp/plumb.err" && { echo "tc ingress/u32/mirred missing"; exit 77; }
  fail "leftover plumbing"
fi

make_bundle "$tmp/b" '["sh","/bin/net-test.sh"]' \
  "[n.__setitem__('path','/var/run/netns/$ns_a') for n in c['linux']['namespaces'] if n['type']=='network']; [c['process']['capabilities'][k].append('CAP_NET_RAW') for k in ('bounding','effective','permitted')]; c['root']['readonly']=False"
gcc -static -O2 -o "$tmp/b/rootfs/bin/net-io" "$repo/tests/integration/broker_net_io.c"
for a in ip ping sha256sum cut; do ln -sf busybox "$tmp/b/rootfs/bin/$a"; done
head -c $((16 << 20)) /dev/urandom > "$tmp/b/rootfs/data.bin"
want=$(sha256sum < "$tmp/b/rootfs/data.bin" | cut -d' ' -f1)
cat > "$tmp/b/rootfs/bin/net-test.sh" <<'SH'
echo "LINK=$(cat /sys/class/net/eth0/address) $(cat /sys/class/net/eth0/mtu) $(cat /sys/class/net/lo/operstate)"
echo "ADDR=$(ip -o -4 addr show dev eth0 | sed 's/.* inet \([^ ]*\).*/\1/')"
echo "ROUTE=$(ip route show 10.97.0.0/16)"
ping -c 2 -W 5 10.98.0.2 >/dev/null && echo PING=ok
net-io echo 10.98.0.2 7000 /data.bin /tmp/back.bin && echo "ECHO=$(sha256sum < /tmp/back.bin | cut -d' ' -f1)"
net-io serve 8000 /data.bin && echo SERVED=ok
SH
ip netns exec $ns_b python3 "$repo/tests/integration/broker_net_peer.py" echo 7000 &
echo_pid=$!; pids+=($echo_pid)
# Listening before the container dials it (port 7000 = 0x1B58 in /proc/net/tcp).
for _ in $(seq 100); do
  ip netns exec $ns_b grep -q ':1B58 00000000:0000 0A' /proc/net/tcp && break; sleep 0.1
done
ip netns exec $ns_b python3 "$repo/tests/integration/broker_net_peer.py" fetch 10.98.0.1 8000 "$tmp/fetched.bin" &
fetch_pid=$!; pids+=($fetch_pid)

set +e
timeout 150 "$RUNVM" --root "$root" run --bundle "$tmp/b" n1 >"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
set -e
cat "$tmp/out"
cat "$tmp/err" >&2
[ "$rc" -eq 0 ] || fail "runvm run status $rc"
value() { grep "^$1=" "$tmp/out" | head -1 | cut -d= -f2-; }
expect_eq "$(value LINK)" "$mac 1400 unknown" "guest eth0 has A's MAC and MTU, lo is up"
expect_eq "$(value ADDR)" "10.98.0.1/24" "guest eth0 has A's address"
expect_contains "$(value ROUTE)" "via 10.98.0.2" "A's route reached the guest"
expect_eq "$(value PING)" ok "ping from the container to B"
expect_eq "$(value ECHO)" "$want" "16 MiB echoed through B"
expect_eq "$(value SERVED)" ok "the container's server ran"
wait $fetch_pid || fail "B reading from the container's server"
expect_eq "$(sha256sum < "$tmp/fetched.bin" | cut -d' ' -f1)" "$want" "16 MiB from the container to B"
wait $echo_pid || fail "echo server in B"
pids=()

expect_gone "$root" n1 "after run"
ip -n $ns_a -o link show | grep -q rvtap && { ip -n $ns_a link show >&2; fail "a tap left in A"; }
tc -n $ns_a qdisc show dev eth0 | grep -q ingress && fail "the ingress qdisc left on A's eth0"
pgrep -f "$tmp/b" >/dev/null && fail "a process of the bundle left"
echo "e2e net: ok"
