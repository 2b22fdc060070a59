#!/usr/bin/env bash
# e2e: containers that start in a pooled VM (template: auto on QEMU, docs/design/fast-start.md)
# rather than booting their own. pool_size 2.
#  1. `runvm template build`: two VMs ready, their state directories root's own.
#  2. `runvm run` from the pool: exit code, stdin, stdout/stderr apart, env, cwd, user,
#     hostname, read-only rootfs; it ran in a pooled VM, and the pool is topped up again;
#     a container in the VM's UTS namespace sees its own id as the hostname and the host's
#     time (the pooled VM is renewed when it is taken), and only lo (the VM's spare link is
#     parked out of its sight).
#  2b. a container that joins a network namespace (A, a veth to B) takes a pooled VM: its
#     eth0 has A's MAC, MTU, address and route, it pings B; nothing is left in A after.
#  2c. a container with hooks (as Docker's libnetwork hook) takes a pooled VM: prestart and
#     createRuntime see it created with its pid-file pid, poststart running, poststop stopped;
#     a failing prestart hook fails the create and runs once.
#  3. containerd's sequence in a pooled VM: create --pid-file, state, start, exec, kill,
#     delete; its linux.cgroupsPath holds the pooled VM's QEMU, gets `update`'s CPU quota,
#     and is gone after delete;
#     beside it a second container in the other pooled VM, at the same time: the two VMs
#     are different and read different bytes from /dev/urandom.
#  4. delete --force of a running pooled container: its VM goes with it.
#  5. a broken pooled VM (its control socket gone): the container still runs, in a VM of
#     its own, after one warning line.
#  6. `runvm template rm`: every unclaimed pooled VM goes, nothing of them is left.
set -euo pipefail
RUNVM=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_root
require_tools qemu-system-x86_64 python3 ip tc
[ -c /dev/net/tun ] || skip "/dev/net/tun missing"
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
require_built "$agent" "$broker"
tmp=$(mktemp -d /tmp/runvm-e2e.XXXXXX)
root=$tmp/state
drain() {
  local c
  for c in $("$RUNVM" --root "$root" list -q 2>/dev/null); do "$RUNVM" --root "$root" delete --force "$c" || true; done
  RUNVM_TEMPLATE=off "$RUNVM" --root "$root" template rm >/dev/null 2>&1 || true
  # A claimed one whose container never came (case 5) ends on its own within 60 s: not here.
  for c in $(pool_ids); do "$RUNVM" --root "$root" delete --force "$c" >/dev/null 2>&1 || true; done
}
trap 'drain; rm -rf "$tmp"' EXIT
use_qemu_guest "$agent" "$broker" "$tmp/image" || exit 77
cat > "$tmp/config.yaml" <<'YAML'
template: auto
pool_size: 2
pool_idle_seconds: 120
YAML
export RUNVM_CONFIG=$tmp/config.yaml
unset RUNVM_TEMPLATE

pool_ids() { "$RUNVM" --root "$root" template list -f json | python3 -c '
import json, sys
print(" ".join(e["id"] for e in json.load(sys.stdin)))'; }
# pool_count STATE: how many pooled VMs are in that state.
pool_count() { "$RUNVM" --root "$root" template list -f json | python3 -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin) if e["state"] == sys.argv[1]))' "$1"; }
# wait_ready N: until N pooled VMs are ready (a refill boots in the background).
wait_ready() {
  local i
  for i in $(seq 240); do [ "$(pool_count ready)" -ge "$1" ] && return 0; sleep 0.5; done
  "$RUNVM" --root "$root" template list >&2; fail "the pool did not get back to $1 ready VMs"
}
vm_of() { "$RUNVM" --root "$root" state "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["runvm"]["vm"])'; }

# 1. Build.
built=$("$RUNVM" --root "$root" template build)
expect_eq "$(echo "$built" | grep -c ' ready$')" 2 "template build: two VMs"
expect_eq "$(pool_count ready)" 2 "template list after build"
for id in $(pool_ids); do
  expect_eq "$(stat -c '%a %u' "$root/$id")" "700 0" "$id: state directory mode and owner"
  expect_eq "$(stat -c '%a' "$root/$id/pool-ready")" "600" "$id: ready mark mode"
done
[ -z "$("$RUNVM" --root "$root" list -q)" ] || fail "runvm list shows pooled VMs"
# A second build finds the pool full: it boots nothing.
expect_eq "$("$RUNVM" --root "$root" template build)" "" "template build of a full pool"

# 2. runvm run from the pool.
make_bundle "$tmp/b1" '["sh","-c","read line; echo \"in:$line\"; echo err >&2; echo \"u:$(id -u) g:$(id -g) cwd:$(pwd) foo:$FOO host:$(hostname)\"; touch /x 2>/dev/null && echo rw || echo ro; exit 7"]' '
c["process"]["user"] = {"uid": 1000, "gid": 1000}
c["process"]["cwd"] = "/work"
c["process"]["env"].append("FOO=bar")
c["root"]["readonly"] = True'
start_ms=$(date +%s%3N)
set +e
echo hello | "$RUNVM" --root "$root" --debug run --bundle "$tmp/b1" r1 >"$tmp/r1.out" 2>"$tmp/r1.err"
rc=$?
set -e
run_ms=$(( $(date +%s%3N) - start_ms ))
expect_eq "$rc" 7 "run: exit status"
expect_eq "$(cat "$tmp/r1.out")" "in:hello
u:1000 g:1000 cwd:/work foo:bar host:runvm-e2e
ro" "run: stdout"
expect_contains "$(cat "$tmp/r1.err")" "err" "run: stderr apart"
expect_contains "$(cat "$tmp/r1.err")" "runs in pooled VM runvm-pool-" "run: in a pooled VM"
echo "run from the pool: ${run_ms} ms"
wait_ready 2
# The pooled VM is renewed for its container (Reinit): a container in the VM's UTS namespace
# sees its own id as the hostname, and the guest's clock is the host's, however long the VM
# waited in the pool.
make_bundle "$tmp/b4" '["sh","-c","hostname; echo links: $(ls /sys/class/net); date +%s"]' '
c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "uts"]
c.pop("hostname", None)'
out=$("$RUNVM" --root "$root" run --bundle "$tmp/b4" r4 </dev/null)
expect_eq "$(echo "$out" | head -1)" "r4" "the pooled VM's hostname is its container's id"
expect_eq "$(echo "$out" | sed -n 2p)" "links: lo" "a pooled VM's container without a network sees only lo"
guest_s=$(echo "$out" | tail -1)
host_s=$(date +%s)
[ $((host_s - guest_s)) -le 2 ] && [ $((guest_s - host_s)) -le 2 ] ||
  fail "the pooled guest's clock: $guest_s, the host's $host_s"
wait_ready 2

# 2b. A network namespace to join: the pooled VM's spare link takes A's interface.
ns_a=rvpoolA$$
ns_b=rvpoolB$$
trap 'drain; ip netns del $ns_a 2>/dev/null; ip netns del $ns_b 2>/dev/null; rm -rf "$tmp"' EXIT
mac=$(veth_namespaces $ns_a $ns_b 10.96.0 10.95.0.0)
make_bundle "$tmp/bn" '["sh","/bin/net-test.sh"]' \
  "[n.__setitem__('path','/var/run/netns/$ns_a') for n in c['linux']['namespaces'] if n['type']=='network']; [c['process']['capabilities'][k].append('CAP_NET_RAW') for k in ('bounding','effective','permitted')]"
cat > "$tmp/bn/rootfs/bin/net-test.sh" <<'SH'
echo "LINK=$(cat /sys/class/net/eth0/address) $(cat /sys/class/net/eth0/mtu) $(echo $(ls /sys/class/net))"
echo "ADDR=$(ip -o -4 addr show dev eth0 | sed 's/.* inet \([^ ]*\).*/\1/')"
echo "ROUTE=$(ip route show 10.95.0.0/16)"
ping -c 2 -W 5 10.96.0.2 >/dev/null && echo PING=ok
SH
for a in ip ping sed; do ln -sf busybox "$tmp/bn/rootfs/bin/$a"; done
set +e
start_ms=$(date +%s%3N)
"$RUNVM" --root "$root" --debug run --bundle "$tmp/bn" rn </dev/null >"$tmp/rn.out" 2>"$tmp/rn.err"
rc=$?
set -e
echo "run with a network namespace from the pool: $(( $(date +%s%3N) - start_ms )) ms (2 pings included)"
[ "$rc" -eq 0 ] || { cat "$tmp/rn.out" "$tmp/rn.err" >&2; fail "run with a network namespace: status $rc"; }
expect_contains "$(cat "$tmp/rn.err")" "runs in pooled VM runvm-pool-" "a network namespace's container runs in a pooled VM"
value() { grep "^$1=" "$tmp/rn.out" | head -1 | cut -d= -f2-; }
expect_eq "$(value LINK)" "$mac 1400 eth0 lo" "the pooled guest's eth0 has A's MAC and MTU"
expect_eq "$(value ADDR)" "10.96.0.1/24" "the pooled guest's eth0 has A's address"
expect_contains "$(value ROUTE)" "via 10.96.0.2" "A's route reached the pooled guest"
expect_eq "$(value PING)" ok "ping from the pooled VM's container to B"
expect_gone "$root" rn "after the run in a pooled VM with a network"
ip -n $ns_a -o link show | grep -q rvtap && { ip -n $ns_a link show >&2; fail "a tap left in A"; }
tc -n $ns_a qdisc show dev eth0 | grep -q ingress && fail "the ingress qdisc left on A's eth0"
wait_ready 2

# 2c. Hooks, on the host, around a pooled VM's container.
make_bundle "$tmp/bh" '["echo","hooked"]' "
c['hooks'] = {k: [{'path': '/bin/sh', 'args': ['sh', '-c', 'cat > $tmp/hook-' + k + '.json']}]
              for k in ('prestart', 'createRuntime', 'poststart', 'poststop')}"
out=$("$RUNVM" --root "$root" --debug run --bundle "$tmp/bh" --pid-file "$tmp/rh.pid" rh </dev/null 2>"$tmp/rh.err") ||
  { cat "$tmp/rh.err" >&2; fail "run with hooks"; }
expect_eq "$out" "hooked" "run with hooks: output"
expect_contains "$(cat "$tmp/rh.err")" "runs in pooled VM runvm-pool-" "a container with hooks runs in a pooled VM"
hook() { python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["id"], s["status"], s["pid"])' "$tmp/hook-$1.json"; }
rh_pid=$(cat "$tmp/rh.pid")
expect_eq "$(hook prestart)" "rh created $rh_pid" "prestart hook's state"
expect_eq "$(hook createRuntime)" "rh created $rh_pid" "createRuntime hook's state"
expect_eq "$(hook poststart)" "rh running $rh_pid" "poststart hook's state"
expect_eq "$(hook poststop)" "rh stopped 0" "poststop hook's state"
wait_ready 2
# A prestart hook that fails fails the create, and runs once: no VM of its own runs it again.
make_bundle "$tmp/bf" '["echo","never"]' "
c['hooks'] = {'prestart': [{'path': '/bin/sh', 'args': ['sh', '-c', 'echo ran >> $tmp/hook-failed.count; exit 3']}]}"
if "$RUNVM" --root "$root" run --bundle "$tmp/bf" rf </dev/null >"$tmp/rf.out" 2>"$tmp/rf.err"; then
  fail "run with a failing prestart hook succeeded"
fi
expect_contains "$(cat "$tmp/rf.err")" "prestart" "a failing prestart hook: the error names it"
expect_eq "$(wc -l < "$tmp/hook-failed.count")" 1 "a failing prestart hook ran once"
[ -z "$(cat "$tmp/rf.out")" ] || fail "a container whose prestart hook failed ran: $(cat "$tmp/rf.out")"
! grep -q "booting a VM of its own" "$tmp/rf.err" || fail "a failing hook fell back to a VM of its own"
[ ! -e "$root/rf" ] || fail "rf's state left after its failed create"
wait_ready 2

# 3. containerd's sequence, two containers at once, each in its own pooled VM.
make_bundle "$tmp/b2" '["sh","-c","trap \"exit 42\" TERM; head -c 16 /dev/urandom | od -An -tx1 | tr -d \" \\n\" > /tmp/rand; while :; do sleep 0.2; done"]' '
c["root"]["readonly"] = False'
cp -a "$tmp/b2" "$tmp/b2b" # rootfs: virtiofs: each its own /tmp/rand
# c1 names its cgroup (as containerd and Docker do): the pooled VM's processes move there.
cg=/runvm-e2e-pool-$$/c1
python3 - "$tmp/b2/config.json" "$cg" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["linux"]["cgroupsPath"] = sys.argv[2]
json.dump(c, open(sys.argv[1], "w"))
PY
"$RUNVM" --root "$root" create --bundle "$tmp/b2" --pid-file "$tmp/c1.pid" c1 </dev/null
"$RUNVM" --root "$root" create --bundle "$tmp/b2b" --pid-file "$tmp/c2.pid" c2 </dev/null
vm1=$(vm_of c1); vm2=$(vm_of c2)
case "$vm1" in runvm-pool-*) ;; *) fail "c1 is not in a pooled VM: $vm1";; esac
case "$vm2" in runvm-pool-*) ;; *) fail "c2 is not in a pooled VM: $vm2";; esac
[ "$vm1" != "$vm2" ] || fail "c1 and c2 share pooled VM $vm1"
expect_contains "$("$RUNVM" --root "$root" state c1)" '"status": "created"' "state c1 before start"
qemu1=$(pgrep -f "qemu-system-x86_64 .*$(sandbox_dir "$root" "$vm1")/" | head -1) || fail "no QEMU for $vm1"
expect_contains "$(cat /proc/"$qemu1"/cgroup)" "$cg" "c1's pooled VM's QEMU in c1's cgroup"
expect_contains "$(cat /proc/"$(cat "$tmp/c1.pid")"/cgroup)" "$cg" "c1's pid-file process in its cgroup"
"$RUNVM" --root "$root" start c1
"$RUNVM" --root "$root" start c2
expect_contains "$("$RUNVM" --root "$root" state c1)" '"status": "running"' "state c1 after start"
for i in $(seq 50); do
  r1=$("$RUNVM" --root "$root" exec c1 cat /tmp/rand 2>/dev/null || true)
  r2=$("$RUNVM" --root "$root" exec c2 cat /tmp/rand 2>/dev/null || true)
  [ -n "$r1" ] && [ -n "$r2" ] && break; sleep 0.2
done
[ ${#r1} -eq 32 ] || fail "c1: no random bytes read ($r1)"
[ "$r1" != "$r2" ] || fail "two pooled VMs read the same bytes from /dev/urandom: $r1"
expect_eq "$("$RUNVM" --root "$root" exec c1 sh -c 'echo exec-$((2+3))')" "exec-5" "exec in a pooled VM"
# runvm update's host CPU quota goes to c1's cgroup, where its pooled VM's processes run.
"$RUNVM" --root "$root" update --cpu-period 100000 --cpu-quota 50000 c1
quota=
for d in "/sys/fs/cgroup$cg" /sys/fs/cgroup/*"$cg"; do
  if [ -e "$d/cpu.cfs_quota_us" ]; then quota=$(cat "$d/cpu.cfs_quota_us"); fi
  if [ -e "$d/cpu.max" ]; then quota=$(cut -d' ' -f1 "$d/cpu.max"); fi
done
expect_eq "$quota" "50000" "update: the CPU quota in c1's own cgroup"
pid1=$(cat "$tmp/c1.pid")
"$RUNVM" --root "$root" kill c1 TERM
timeout 30 tail --pid="$pid1" -f /dev/null || fail "c1's pid-file process did not exit after kill"
st=$("$RUNVM" --root "$root" state c1)
expect_contains "$st" '"status": "stopped"' "state c1 after kill"
expect_contains "$st" '"exit_status": 42' "c1's exit status"
"$RUNVM" --root "$root" delete c1
for i in $(seq 100); do [ ! -e "$root/$vm1" ] && break; sleep 0.1; done
[ ! -e "$root/$vm1" ] || fail "c1's pooled VM $vm1 outlived it"
expect_gone "$root" "$vm1" "c1's pooled VM"
# cgroup v2 (/sys/fs/cgroup/...) or v1 (one directory per hierarchy).
for d in "/sys/fs/cgroup$cg" /sys/fs/cgroup/*"$cg"; do
  [ ! -e "$d" ] || fail "c1's cgroup $d left after delete"
done
for d in "/sys/fs/cgroup/runvm-e2e-pool-$$" /sys/fs/cgroup/*/"runvm-e2e-pool-$$"; do
  [ ! -d "$d" ] || rmdir "$d"
done

# 4. delete --force of a running pooled container.
"$RUNVM" --root "$root" delete --force c2
for i in $(seq 100); do [ ! -e "$root/$vm2" ] && break; sleep 0.1; done
[ ! -e "$root/$vm2" ] || fail "c2's pooled VM $vm2 outlived delete --force"
expect_gone "$root" "$vm2" "c2's pooled VM"
[ ! -e "$root/c2" ] || fail "c2's state left after delete --force"

# 5. A broken pooled VM: the container still runs, cold, with one warning.
wait_ready 2
for id in $(pool_ids); do rm -f "$(sandbox_dir "$root" "$id")/monitor.sock"; done
make_bundle "$tmp/b3" '["echo","cold-ok"]'
out=$("$RUNVM" --root "$root" run --bundle "$tmp/b3" r3 2>"$tmp/r3.err")
expect_eq "$out" "cold-ok" "run after a broken pooled VM"
expect_contains "$(cat "$tmp/r3.err")" "booting a VM of its own" "the fallback's warning"
[ "$(grep -c . "$tmp/r3.err")" -eq 1 ] || { cat "$tmp/r3.err" >&2; fail "more than one warning line"; }

# 6. template rm: the unclaimed ones go (the refill's included), nothing of them is left.
for i in $(seq 240); do [ "$(pool_count booting)" -eq 0 ] && break; sleep 0.5; done
left=$(pool_ids)
"$RUNVM" --root "$root" template rm >/dev/null
for id in $left; do
  if [ -e "$root/$id" ] && [ ! -e "$root/$id/pool-claim" ]; then fail "template rm left $id"; fi
done
for id in $left; do [ -e "$root/$id/pool-claim" ] || expect_gone "$root" "$id" "template rm of $id"; done
echo "PASS template_pool"
