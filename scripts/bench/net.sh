#!/usr/bin/env bash
# Container networking benchmark: TCP throughput and ping round trip from a container to a
# peer namespace, through runvm (the container in a QEMU/TCG VM: virtio-net, the broker,
# the tap and tc mirroring) beside the same container under runc, in the same namespaces
# and in one run: namespace A (the container's, given by path in config.json, as CNI and
# containerd do) and B (the peer), joined by a veth pair. Writes its table between the
# markers in docs/benchmarks.md. Needs root, QEMU, runc and a build.
# usage: scripts/bench/net.sh [MIB=64] [PINGS=20]   (env BUILD_DIR, default build/)
set -euo pipefail
# Every container boots its own VM here unless asked (template: auto would start the later
# ones in pooled VMs booted in the background, docs/design/fast-start.md).
export RUNVM_TEMPLATE=${RUNVM_TEMPLATE:-off}
mib=${1:-64}
pings=${2:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
runvm=$build/shim/cli/runvm
[ "$(id -u)" = 0 ] || { echo "net.sh: needs root" >&2; exit 1; }
for t in runc qemu-system-x86_64 ip busybox; do
  command -v "$t" >/dev/null || { echo "net.sh: $t missing" >&2; exit 1; }
done

work=$(mktemp -d /tmp/runvm-bench-net.XXXXXX)
nsa=rvnbA$$ nsb=rvnbB$$
cleanup() {
  for c in $("$runvm" --root "$work/state" list -q 2>/dev/null); do
    "$runvm" --root "$work/state" delete --force "$c" || true
  done
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  ip netns del "$nsa" 2>/dev/null || true
  ip netns del "$nsb" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$nsa"; ip netns add "$nsb"
ip link add eth0 netns "$nsa" type veth peer name eth0 netns "$nsb"
ip -n "$nsa" addr add 10.97.0.1/24 dev eth0; ip -n "$nsa" link set eth0 up; ip -n "$nsa" link set lo up
ip -n "$nsb" addr add 10.97.0.2/24 dev eth0; ip -n "$nsb" link set eth0 up; ip -n "$nsb" link set lo up

# The bundle: busybox and net-io (tests/integration/broker_net_io.c), static.
b=$work/bundle
mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/sys" "$b/rootfs/dev" "$b/rootfs/tmp"
cp /bin/busybox "$b/rootfs/bin/"
for a in sh ping tail; do ln -s busybox "$b/rootfs/bin/$a"; done
gcc -static -O2 -o "$b/rootfs/bin/net-io" "$root/tests/integration/broker_net_io.c"
(cd "$b" && "$runvm" spec)
python3 - "$b/config.json" "$nsa" "$mib" "$pings" <<'PY'
import json, sys
p, ns, mib, pings = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c",
    "ping -c %s -i 0.2 10.97.0.2 | tail -1; net-io send 10.97.0.2 7001 %s" % (pings, mib)]
c["process"]["capabilities"] = {k: v + ["CAP_NET_RAW"] for k, v in
                                c["process"]["capabilities"].items() if k != "ambient"}
c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"] + \
    [{"type": "network", "path": "/var/run/netns/" + ns}]
json.dump(c, open(p, "w"), indent=1)
PY

# one NAME RUNTIME...: the sink in B, the container in A; "mbps rtt_avg_ms" on stdout.
one() {
  local name=$1; shift
  ip netns exec "$nsb" "$b/rootfs/bin/net-io" sink 7001 > "$work/sink.$name" &
  local sink=$!
  sleep 0.3
  "$@" run --bundle "$b" "net-$name" < /dev/null > "$work/out.$name"
  wait "$sink"
  # sink: "SINK bytes=N seconds=S MBps=R"; ping: "round-trip min/avg/max = a/b/c ms"
  python3 - "$work/sink.$name" "$work/out.$name" <<'PY'
import re, sys
sink = open(sys.argv[1]).read()
mbps = re.search(r"MBps=([0-9.]+)", sink).group(1)
rtt = re.search(r"= [0-9.]+/([0-9.]+)/", open(sys.argv[2]).read()).group(1)
print(mbps, rtt)
PY
}

# This build's agent (ConfigureNetwork) and broker, not whichever build*/ comes first.
image=$("$root/scripts/build-guest-image.sh" --agent "$build/guest_agent/runvm-agent" --out "$work/image")
export RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio RUNVM_HYPERVISOR=qemu
export RUNVM_BROKER=$build/broker/runvm-broker
read -r runc_mbps runc_rtt < <(one runc runc --root "$work/runc")
read -r vm_mbps vm_rtt < <(one runvm "$runvm" --root "$work/state")

table=$(cat <<EOT
<!-- runvm-net-bench:begin -->
## Container networking

\`scripts/bench/net.sh $mib $pings\` on $(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg):
a container in namespace A sends $mib MiB over TCP to a peer in namespace B (a veth pair)
and pings it $pings times; runc and runvm (QEMU TCG guest, virtio-net through the broker,
tap + tc mirred) run the same bundle in the same namespaces.

| measure | runc | runvm | runvm / runc |
|---|---|---|---|
| TCP throughput, container -> peer | $runc_mbps MB/s | $vm_mbps MB/s | $(python3 -c "print('%.2f' % ($vm_mbps/$runc_mbps))") |
| ping round trip (avg) | $runc_rtt ms | $vm_rtt ms | $(python3 -c "print('%.1f' % ($vm_rtt/$runc_rtt))") |
<!-- runvm-net-bench:end -->
EOT
)
doc=$root/docs/benchmarks.md
python3 "$(dirname "$0")/doc_section.py" "$doc" "$table"
echo "$table"
