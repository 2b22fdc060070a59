#!/usr/bin/env bash
# e2e: a container on the host's network is refused and never touches the host's interfaces
# (issue #19). Refused at create/run, naming why, with nothing left: a spec without a network
# namespace (docker --network host, a hostNetwork pod), one whose network path is pid 1's
# namespace (/proc/1/ns/net) and one whose path is a host process's (docker --network
# container:<x> where x's pid is on the host's network). The host's links, addresses, qdiscs
# and ingress filters are the same before and after. Then one QEMU TCG boot: a spec with its
# own namespace (a veth to a peer namespace) still gets that veth's MAC and address.
set -euo pipefail
RUNVM=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_root
require_tools qemu-system-x86_64 ip tc python3
require_static_busybox
[ -c /dev/net/tun ] || skip "/dev/net/tun missing"
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
require_built "$agent" "$broker"

tmp=$(mktemp -d /tmp/runvm-e2e-hostnet.XXXXXX)
ns_a=rvhostA$$
ns_b=rvhostB$$
root=$tmp/state
host_proc=""
cleanup() {
  [ -z "$host_proc" ] || kill "$host_proc" 2>/dev/null || true
  for c in $("$RUNVM" --root "$root" list -q 2>/dev/null); do
    "$RUNVM" --root "$root" delete --force "$c" || true
  done
  ip netns del $ns_a 2>/dev/null || true
  ip netns del $ns_b 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
use_qemu_guest "$agent" "$broker" "$tmp/image" || exit 77

# The host's network as runvm could change it, link by link (the links there now: other
# tests may add their own meanwhile). Bridge timers and address lifetimes tick: left out.
host_links=$(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1)
snapshot() {
  local l
  for l in $host_links; do
    echo "== $l"
    ip -d link show dev "$l" | sed -E 's/ [a-z_]*timer +[0-9.]+//g'
    ip addr show dev "$l" | grep -v 'valid_lft'
    tc qdisc show dev "$l"
    tc filter show dev "$l" ingress
  done
}
snapshot > "$tmp/host.before"
check_host() {
  snapshot > "$tmp/host.after"
  diff -u "$tmp/host.before" "$tmp/host.after" >&2 || fail "$1: the host's network changed"
  local links
  links=$(ip -o link show)
  ! grep -q rvtap <<<"$links" || { grep rvtap <<<"$links" >&2; fail "$1: a tap on the host"; }
}

# refused ID VERB WHY EDIT: `runvm VERB` of a bundle edited by EDIT fails, its error says WHY,
# and nothing of it is left.
refused() {
  local id=$1 verb=$2 why=$3 edit=$4 rc
  rm -rf "$tmp/$id"
  make_bundle "$tmp/$id" '["true"]' "$edit"
  set +e
  timeout 120 "$RUNVM" --root "$root" "$verb" --bundle "$tmp/$id" "$id" >"$tmp/$id.out" \
    2>"$tmp/$id.err" </dev/null
  rc=$?
  set -e
  [ "$rc" -ne 0 ] || fail "$id: runvm $verb of a container on the host's network succeeded"
  [ "$rc" -ne 124 ] || fail "$id: runvm $verb hung"
  expect_contains "$(cat "$tmp/$id.err")" "$why" "$id: runvm $verb's error"
  echo "$id: runvm $verb refused: $(tail -1 "$tmp/$id.err")"
  expect_gone "$root" "$id" "$id"
  check_host "$id"
}

# `runvm spec` (runc's default, what make_bundle starts from) has a new network namespace.
mkdir -p "$tmp/spec" && (cd "$tmp/spec" && "$RUNVM" spec)
python3 -c "import json,sys; ns=json.load(open(sys.argv[1]))['linux']['namespaces']; sys.exit(0 if {'type': 'network'} in ns else 1)" \
  "$tmp/spec/config.json" || fail "runvm spec's default has no new network namespace"

no_netns="c['linux']['namespaces']=[n for n in c['linux']['namespaces'] if n['type']!='network']"
with_path() {
  echo "[n.__setitem__('path','$1') for n in c['linux']['namespaces'] if n['type']=='network']"
}
no_netns_error="linux.namespaces has no network namespace: the container would share the host's network (docker --network host, a hostNetwork pod), which a VM cannot do without taking over the host's interfaces; runvm refuses it"
refused hostnet-create create "$no_netns_error" "$no_netns"
refused hostnet-run run "$no_netns_error" "$no_netns"
# A root without ptrace access to pid 1 (a confined one, as in some CI containers) cannot
# even open pid 1's namespace file.
pid1_error="network namespace /proc/1/ns/net: it is the host's own network namespace (pid 1's)"
readlink /proc/1/ns/net >/dev/null 2>&1 || pid1_error="open network namespace /proc/1/ns/net"
refused pid1-netns run "$pid1_error" "$(with_path /proc/1/ns/net)"
sleep 1000 &
host_proc=$!
# pid 1's namespace is named first; in a test namespace of its own, runvm's (the same).
refused proc-netns create "network namespace /proc/$host_proc/ns/net: it is the " \
  "$(with_path /proc/$host_proc/ns/net)"
kill "$host_proc"
host_proc=""

# A namespace of its own (as CNI gives it) still works: one boot.
ip netns add $ns_a
ip netns add $ns_b
ip link add va netns $ns_a type veth peer name vb netns $ns_b
ip -n $ns_a link set va name eth0 up
ip -n $ns_a addr add 10.96.0.1/24 dev eth0
ip -n $ns_b link set vb up
mac=$(ip netns exec $ns_a cat /sys/class/net/eth0/address)
make_bundle "$tmp/ok" '["sh","/bin/net-test.sh"]' "$(with_path /var/run/netns/$ns_a)"
for a in ip sed; do ln -sf busybox "$tmp/ok/rootfs/bin/$a"; done
cat > "$tmp/ok/rootfs/bin/net-test.sh" <<'SH'
echo "LINK=$(cat /sys/class/net/eth0/address) ADDR=$(ip -o -4 addr show dev eth0 | sed 's/.* inet \([^ ]*\).*/\1/')"
SH
set +e
timeout 150 "$RUNVM" --root "$root" run --bundle "$tmp/ok" own-netns >"$tmp/ok.out" 2>"$tmp/ok.err" </dev/null
rc=$?
set -e
cat "$tmp/ok.out"
[ "$rc" -eq 0 ] || { cat "$tmp/ok.err" >&2; fail "own-netns: runvm run status $rc"; }
expect_eq "$(grep '^LINK=' "$tmp/ok.out")" "LINK=$mac ADDR=10.96.0.1/24" \
  "own-netns: the guest's eth0 is the namespace's veth"
expect_gone "$root" own-netns "own-netns"
links=$(ip -n $ns_a -o link show)
! grep -q rvtap <<<"$links" || fail "own-netns: a tap left in its namespace"
qdiscs=$(tc -n $ns_a qdisc show dev eth0)
! grep -q ingress <<<"$qdiscs" || fail "own-netns: the ingress qdisc left"
check_host "own-netns"
echo "e2e host network: ok"
