#!/usr/bin/env bash
# e2e: a container on a CNI bridge network, set up the way containerd's CRI sets up a pod:
# a named network namespace, then Debian's loopback and bridge plugins (host-local IPAM)
# run in it with CNI_COMMAND=ADD. The same bundle, pointing at that namespace, runs under
# runc (the reference) and under runvm (one VM): both see the address CNI gave, a default
# route through the bridge, reach the gateway (ping, TCP), and serve TCP to the host.
# Afterwards: CNI DEL, and no tap, qdisc, process or mount of the sandbox is left.
set -euo pipefail
RUNVM=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_root
require_tools qemu-system-x86_64 runc ip busybox
cni_bin=${CNI_PATH:-/usr/lib/cni}
[ -x "$cni_bin/bridge" ] && [ -x "$cni_bin/host-local" ] && [ -x "$cni_bin/loopback" ] ||
  skip "CNI plugins missing in $cni_bin (containernetworking-plugins)"
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
require_built "$agent" "$broker"

tmp=$(mktemp -d /tmp/runvm-cni.XXXXXX)
root=$tmp/state
ns=runvm-cni-$$
bridge=rvcni$(($$ % 100000))
subnet=10.213.$(($$ % 200 + 20))
gw=$subnet.1
port_host=9011
port_ctr=9012
conf=$tmp/bridge.conflist
cat > "$conf" <<EOF
{"cniVersion": "1.0.0", "name": "runvm-e2e", "type": "bridge", "bridge": "$bridge",
 "isGateway": true, "ipMasq": false, "hairpinMode": false,
 "ipam": {"type": "host-local", "dataDir": "$tmp/ipam",
          "ranges": [[{"subnet": "$subnet.0/24", "gateway": "$gw"}]],
          "routes": [{"dst": "0.0.0.0/0"}]}}
EOF
echo '{"cniVersion": "1.0.0", "name": "lo", "type": "loopback"}' > "$tmp/lo.conf"
# cni COMMAND IFNAME PLUGIN CONF: one plugin call, as containerd's CRI (go-cni) makes it.
cni() {
  CNI_COMMAND=$1 CNI_CONTAINERID=$ns CNI_NETNS=/var/run/netns/$ns CNI_IFNAME=$2 \
    CNI_PATH=$cni_bin "$cni_bin/$3" < "$4"
}
cleanup() {
  for c in $("$RUNVM" --root "$root" list -q 2>/dev/null); do
    "$RUNVM" --root "$root" delete --force "$c" || true
  done
  cni DEL eth0 bridge "$conf" >/dev/null 2>&1 || true
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$bridge" 2>/dev/null || true
  kill $(jobs -p) 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns"
cni ADD lo loopback "$tmp/lo.conf" > "$tmp/lo.json"
cni ADD eth0 bridge "$conf" > "$tmp/cni.json"
addr=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ips"][0]["address"])' "$tmp/cni.json")
ctr_ip=${addr%/*}
expect_contains "$addr" "$subnet." "CNI gave an address in the subnet"

# The container: prints its address and default route, pings the gateway, sends a line to
# the host's server, then serves one line to the host and exits.
script="ip -4 -o addr show | awk '\$2 != \"lo\" {print \"addr \" \$4}'
ip route | awk '/^default/ {print \"route \" \$1 \" via \" \$3}'
ping -c 1 -W 10 $gw >/dev/null && echo ping-ok
echo hello-from-\$RUNTIME | nc -w 10 $gw $port_host && echo sent-ok
echo served-by-\$RUNTIME | nc -l -p $port_ctr -w 30 && echo served-ok"
make_bundle "$tmp/b" "$(python3 -c 'import json,sys; print(json.dumps(["sh","-c",sys.argv[1]]))' "$script")" \
  "c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='network']+[{'type':'network','path':'/var/run/netns/$ns'}]
c['process']['capabilities']={k:v+['CAP_NET_RAW'] for k,v in c['process']['capabilities'].items() if k!='ambient'}"
for a in ip awk ping nc; do ln -sf busybox "$tmp/b/rootfs/bin/$a"; done

# run_one RUNTIME...: the container in the background, the host's server before and its
# client once the container has sent; prints the container's output in $tmp/out.RUNTIME.
run_one() {
  local name=$1; shift
  python3 - "$gw" "$port_host" "$tmp/got.$name" <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
s.settimeout(120)
c, _ = s.accept()
c.settimeout(30)
data = b""
while True:
    b = c.recv(4096)
    if not b:
        break
    data += b
open(sys.argv[3], "wb").write(data.strip())
PY
  local server=$!
  python3 -c 'import json,sys; p=sys.argv[1]; c=json.load(open(p)); c["process"]["env"]=[e for e in c["process"]["env"] if not e.startswith("RUNTIME=")]+["RUNTIME="+sys.argv[2]]; json.dump(c,open(p,"w"),indent=1)' "$tmp/b/config.json" "$name"
  "$@" run --bundle "$tmp/b" "cni-$name" < /dev/null > "$tmp/out.$name" 2> "$tmp/err.$name" &
  local ctr=$!
  local i
  for i in $(seq 600); do grep -q sent-ok "$tmp/out.$name" 2>/dev/null && break; sleep 0.1; done
  # The container listens right after "sent-ok"; retry until it does.
  python3 - "$ctr_ip" "$port_ctr" "$tmp/served.$name" <<'PY' || true
import socket, sys, time
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    except OSError:
        time.sleep(0.1)
        continue
    c.settimeout(10)
    data = b""
    while True:
        b = c.recv(4096)
        if not b:
            break
        data += b
    open(sys.argv[3], "wb").write(data.strip())
    break
PY
  local rc=0
  timeout 120 tail --pid="$ctr" -f /dev/null || true
  wait "$ctr" || rc=$?
  wait "$server" || true
  cat "$tmp/out.$name" "$tmp/err.$name" >&2
  expect_eq "$rc" 0 "$name: container exit status"
  expect_eq "$(grep '^addr ' "$tmp/out.$name")" "addr $addr" "$name: the address CNI gave"
  expect_eq "$(grep '^route ' "$tmp/out.$name")" "route default via $gw" "$name: default route"
  expect_contains "$(cat "$tmp/out.$name")" ping-ok "$name: ping of the gateway"
  expect_eq "$(cat "$tmp/got.$name")" "hello-from-$name" "$name: TCP to the host"
  expect_eq "$(cat "$tmp/served.$name")" "served-by-$name" "$name: TCP from the host"
}

run_one runc runc --root "$tmp/runc"
if [ "${RUNVM_CNI_REFERENCE_ONLY:-}" = 1 ]; then echo "runc reference passed"; exit 0; fi

image=$(guest_image "$agent" "$tmp/image") || exit 77
export RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio RUNVM_BROKER=$broker
export RUNVM_HYPERVISOR=qemu
export RUNVM_BOOT_TIMEOUT_MS=${RUNVM_BOOT_TIMEOUT_MS:-120000}
run_one runvm "$RUNVM" --root "$root"
expect_gone "$root" cni-runvm "after run"
# The plumbing is gone from the pod's namespace: only what CNI made is there.
links=$(ip netns exec "$ns" ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\n' ' ')
expect_eq "$links" "eth0 lo " "links left in the pod namespace"
qdiscs=$(ip netns exec "$ns" tc qdisc show dev eth0)
! grep -q ingress <<<"$qdiscs" || fail "ingress qdisc left on eth0"
cni DEL eth0 bridge "$conf"
echo "cni_net: runc and runvm agree"
