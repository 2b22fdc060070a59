#!/usr/bin/env bash
# containerd 1.6's own CRI plugin with runvm as runtime handler `runvm`, driven by runvm-cri
# the way the kubelet drives it: a locally built busybox image (umoci) imported into the
# k8s.io namespace and set as sandbox_image; RunPodSandbox of a hostNetwork pod refused
# (a VM cannot share the node's network), then RunPodSandbox on a CNI bridge network (the
# pod's veth plumbed into its VM: the guest has the pod IP), two containers
# created and started in the pod, ExecSync in each, ContainerStatus after one exits with 7,
# StopContainer, RemoveContainer, StopPodSandbox, RemovePodSandbox; one VM for the pod (both
# containers see the same boot id, one QEMU runs beside the pool's); a second pod starts in
# the VM the first one's create left in the pool (its IP on the VM's spare link, two app
# containers in its namespaces, another boot id); afterwards no shim,
# broker or VM process, no socket and no state is left. QEMU TCG VMs.
# usage: cri_pod.sh RUNVM_CRI SHIM RUNVM BUILD_DIR
set -euo pipefail
cri_client=$(readlink -f "$1")
shim=$(readlink -f "$2")
runvm=$(readlink -f "$3")
build=$(readlink -f "$4")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
expect_contains() { case "$1" in *"$2"*) ;; *) fail "$3: '$2' not in '$1'";; esac; }

[ "$(id -u)" -eq 0 ] || skip "needs root"
for tool in containerd ctr umoci qemu-system-x86_64; do
  command -v "$tool" >/dev/null || skip "$tool missing"
done
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" | grep -q 'statically linked' || skip "busybox-static missing"
agent=${RUNVM_TEST_AGENT:-$build/guest_agent/runvm-agent}
broker=${RUNVM_TEST_BROKER:-$build/broker/runvm-broker}
[ -x "$agent" ] || skip "runvm-agent not built ($agent)"
[ -x "$broker" ] || skip "runvm-broker not built ($broker)"

tmp=$(mktemp -d /tmp/runvm-cri.XXXXXX)
# lib.sh's ctr, image and containerd helpers, all in the CRI plugin's namespace.
export CONTAINERD_NAMESPACE=k8s.io
. "$repo/tests/containerd/lib.sh"
cri() { "$cri_client" --endpoint "unix://$sock" "$@"; }
bridge=rvcri$(($$ % 100000))
trap 'cleanup_containerd_test; ip link del "$bridge" 2>/dev/null' EXIT
trap 'exit 1' TERM INT

use_runvm_shim "$shim" "$runvm" "$agent" "$broker" || skip "guest image could not be built"
# template: auto (docs/design/fast-start.md): a pod's create leaves a booted VM in the pool.
pool_ids() { "$runvm" --root "$tmp/runvm/k8s.io" template list -f json 2>/dev/null | python3 -c '
import json, sys
print(" ".join(e["id"] for e in json.load(sys.stdin)))'; }
wait_pool_ready() {
  local i
  for i in $(seq 240); do
    [ "$("$runvm" --root "$tmp/runvm/k8s.io" template list -f json | python3 -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin) if e["state"] == "ready"))')" -ge "$1" ] && return 0
    sleep 0.5
  done
  "$runvm" --root "$tmp/runvm/k8s.io" template list >&2; fail "the pool did not get $1 ready VMs"
}
drain_pool() { "$runvm" --root "$tmp/runvm/k8s.io" template rm >/dev/null 2>&1 || true; }
# A field of a container's state record (what runvm keeps under its root).
state_field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' \
  "$tmp/runvm/k8s.io/$1/state.json" "$2"; }
mkdir -p "$tmp/cni" "$tmp/logs"
cni_bin=/usr/lib/cni
[ -x "$cni_bin/bridge" ] && [ -x "$cni_bin/host-local" ] && [ -x "$cni_bin/loopback" ] ||
  skip "CNI plugins missing in $cni_bin (containernetworking-plugins)"
# The pod network, as a node's CNI config gives it: a bridge with host-local addresses.
subnet=10.214.$(($$ % 200 + 20))
cat > "$tmp/cni/10-runvm-cri.conflist" <<JSON
{"cniVersion": "0.4.0", "name": "runvm-cri",
 "plugins": [{"type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": false,
              "ipam": {"type": "host-local", "dataDir": "$tmp/ipam",
                       "ranges": [[{"subnet": "$subnet.0/24"}]],
                       "routes": [{"dst": "0.0.0.0/0"}]}}]}
JSON

img=localhost/runvm-busybox:latest
# lib.sh's config with the CRI plugin enabled: runvm as runtime handler `runvm`, the test's
# image as the pod sandbox (pause) image.
write_containerd_config
sed -i 's/"io.containerd.grpc.v1.cri", //' "$tmp/config.toml"
cat >> "$tmp/config.toml" <<TOML
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$img"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runvm]
      runtime_type = "io.containerd.runvm.v2"
      pod_annotations = ["io.runvm.*"]
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$tmp/cni"
TOML
grep -q '"io.containerd.grpc.v1.cri"' "$tmp/config.toml" || fail "CRI plugin config"
start_containerd || fail "containerd did not start"
for _ in $(seq 100); do cri version >/dev/null 2>&1 && break; sleep 0.1; done
version=$(cri version) || { tail -20 "$tmp/containerd.log" >&2; fail "containerd's CRI did not answer"; }
echo "CRI: $version"

# The image, busybox-static packed by umoci, is also the pod's sandbox (pause) image: its
# command sleeps.
image_cmd=(sleep 2147483647)
import_busybox_image "$busybox" sh echo cat sleep uname touch true readlink ip || fail "image import"
for _ in $(seq 50); do cri image-status "$img" >/dev/null 2>&1 && break; sleep 0.1; done
cri image-status "$img" >/dev/null || fail "CRI does not see the imported image $img"

# A pod on the node's network: its pause container's spec has no network namespace, which a
# VM cannot share without taking over the node's interfaces: refused, naming why.
if cri run-pod --pod-name runvm-hostnet --pod-uid runvm-hostnet-uid --log-dir "$tmp/logs" \
  --host-network --runtime-handler runvm >"$tmp/hostnet.out" 2>"$tmp/hostnet.err"; then
  fail "RunPodSandbox of a hostNetwork pod succeeded"
fi
expect_contains "$(cat "$tmp/hostnet.err")" "linux.namespaces has no network namespace" \
  "RunPodSandbox of a hostNetwork pod"
echo "hostNetwork pod refused: $(cat "$tmp/hostnet.err")"

# A pod spec naming a host file as the guest's initrd (which the VM would read into guest RAM
# the pod controls): containerd passes io.runvm.* through (pod_annotations above), runvm
# refuses it by default, naming the key, and nothing is left running.
qemus_before=$(pgrep -c -f "qemu-system.*$tmp/" || true)
if cri run-pod --pod-name runvm-attack --pod-uid runvm-attack-uid --log-dir "$tmp/logs" \
  --annotation io.runvm.initrd=/etc/shadow --runtime-handler runvm \
  >"$tmp/attack.out" 2>"$tmp/attack.err"; then
  fail "RunPodSandbox with io.runvm.initrd=/etc/shadow succeeded"
fi
expect_contains "$(cat "$tmp/attack.err")" "annotation io.runvm.initrd: not enabled" \
  "RunPodSandbox with io.runvm.initrd=/etc/shadow"
expect_eq "$(pgrep -c -f "qemu-system.*$tmp/" || true)" "$qemus_before" "QEMU after the refused pod"
if pgrep -f "runvm.*runvm-attack" >/dev/null; then fail "a process of the refused pod is running"; fi
# No pod exists yet besides the refused one: containerd must have removed its sandbox.
expect_eq "$(ctr -n k8s.io containers ls -q | wc -l)" 0 "containers after the refused pod"
echo "annotation attack refused: $(cat "$tmp/attack.err")"

# The pod: runtime handler runvm, the CNI bridge network.
pod_flags=(--pod-name runvm-pod --log-dir "$tmp/logs")
start_ms=$(date +%s%3N)
pod=$(cri run-pod "${pod_flags[@]}" --runtime-handler runvm) || fail "RunPodSandbox"
echo "RunPodSandbox booting its own VM: $(( $(date +%s%3N) - start_ms )) ms"
status=$(cri pod-status "$pod")
expect_contains "$status" "state=SANDBOX_READY" "PodSandboxStatus"
expect_contains "$status" "handler=runvm" "PodSandboxStatus"
pod_ip=$(echo "$status" | sed -n 's/.* ip=\([^ ]*\) .*/\1/p')
expect_contains "$pod_ip" "$subnet." "the pod IP CNI gave"

# Two containers; c2 exits 7 once the exec into it says so.
c1=$(cri create "${pod_flags[@]}" --log-path c1.log --env GREETING=hello-from-c1 "$pod" c1 "$img" \
  -- sh -c 'echo "$GREETING"; exec sleep 2147483647') || fail "CreateContainer c1"
c2=$(cri create "${pod_flags[@]}" --log-path c2.log "$pod" c2 "$img" \
  -- sh -c 'while [ ! -e /go ]; do sleep 0.1; done; echo c2-done; exit 7') ||
  fail "CreateContainer c2"
cri start "$c1" || fail "StartContainer c1"
cri start "$c2" || fail "StartContainer c2"
expect_contains "$(cri status "$c1")" "state=CONTAINER_RUNNING" "ContainerStatus c1"

set +e
out1=$(cri exec "$c1" -- sh -c 'uname -r; hostname; cat /proc/sys/kernel/random/boot_id; readlink /proc/self/ns/ipc; ip -o -4 addr show dev eth0; exit 3')
rc=$?
set -e
expect_eq "$rc" 3 "ExecSync c1: exit status"
release=$(echo "$out1" | sed -n 1p)
[ -n "$release" ] && [ "$release" != "$(uname -r)" ] || fail "ExecSync c1: kernel '$release' is the host's"
boot1=$(echo "$out1" | sed -n 3p)
ipc1=$(echo "$out1" | sed -n 4p)
# The pod's veth is the VM's eth0: the guest holds the pod IP.
expect_contains "$(echo "$out1" | sed -n 5p)" " inet $pod_ip/24 " "ExecSync c1: eth0"
out2=$(cri exec "$c2" -- sh -c 'cat /proc/sys/kernel/random/boot_id; readlink /proc/self/ns/ipc; touch /go') ||
  fail "ExecSync c2"
boot2=$(echo "$out2" | sed -n 1p)
ipc2=$(echo "$out2" | sed -n 2p)
for _ in $(seq 300); do
  case "$(cri status "$c2")" in *CONTAINER_EXITED*) break ;; esac
  sleep 0.1
done
expect_contains "$(cri status "$c2")" "state=CONTAINER_EXITED exit_code=7" "ContainerStatus c2"
# The kubelet reads what containers print from the CRI log files containerd writes.
expect_contains "$(cat "$tmp/logs/c1.log")" "stdout F hello-from-c1" "c1's CRI log"
expect_contains "$(cat "$tmp/logs/c2.log")" "stdout F c2-done" "c2's CRI log"
# One VM per pod: the sandbox (pause) container and both app containers in one guest.
[ -n "$boot1" ] || fail "ExecSync c1: no boot id"
expect_eq "$boot2" "$boot1" "c2's boot id (one VM per pod)"
# CRI points both app containers' IPC namespace at the sandbox's: in the VM they join the
# pause container's (pod.hpp), as on a runc node, not a new one each.
case "$ipc1" in ipc:\[*\]) ;; *) fail "ExecSync c1: IPC namespace '$ipc1'" ;; esac
expect_eq "$ipc2" "$ipc1" "c2's IPC namespace (the pod's)"
# The pod booted its own VM (the pool was empty): its create left one booted VM in the pool
# for the next pod (template: auto). Every QEMU is one of the two.
wait_pool_ready 1
pooled=$(pool_ids | wc -w)
vms=$(pgrep -c -f "qemu-system-x86_64.*$tmp/image" || true)
expect_eq "$vms" $((1 + pooled)) "VMs running: the pod's and the pool's $pooled"
# c1's rootfs is attached in the pod broker's own mount namespace, not in the host's.
vm_dir=$(state_field "$pod" run_dir)
[ -n "$vm_dir" ] && pgrep -f "qemu-system-x86_64.*$vm_dir/" >/dev/null || fail "the pod VM's directory"
broker_pid=$(pgrep -f "runvm-broker.*$vm_dir" | head -1)
grep -q " $vm_dir/shared/containers/$c1/rootfs " "/proc/$broker_pid/mountinfo" ||
  fail "c1's rootfs is not mounted in the pod broker's namespace"
! grep -q "$vm_dir/shared/containers" /proc/self/mountinfo || fail "c1's rootfs shows on the host"
echo "the pod's containers share one VM (boot id $boot1)"
# The pod VM's processes sit in its sandbox container's host cgroup (cgroupsPath; without a
# cgroup parent from the kubelet, the sandbox id under the shim's own cgroup, as runc puts
# it), and its memory usage includes the guest RAM QEMU touched (docs/resources.md).
qemu_pid=$(pgrep -f "qemu-system-x86_64.*$vm_dir/" | head -1)
memcg_of() {
  if [ -d /sys/fs/cgroup/memory ]; then awk -F: '$2 == "memory" {print $3}' "/proc/$1/cgroup"
  else awk -F: '$1 == "0" {print $3}' "/proc/$1/cgroup"; fi
}
qemu_cg=$(memcg_of "$qemu_pid")
expect_eq "$(basename "$qemu_cg")" "$pod" "the pod VM's host cgroup (its sandbox container's)"
expect_eq "$(memcg_of "$broker_pid")" "$qemu_cg" "the pod broker's host cgroup"
usage_file=/sys/fs/cgroup/memory$qemu_cg/memory.usage_in_bytes
[ -d /sys/fs/cgroup/memory ] || usage_file=/sys/fs/cgroup$qemu_cg/memory.current
guest_kib=$(awk '$1 == "RssShmem:" {print $2}' "/proc/$qemu_pid/status")
[ "$(cat "$usage_file")" -ge $((guest_kib * 1024)) ] ||
  fail "the pod's host cgroup usage $(cat "$usage_file") is below QEMU's guest RAM ($guest_kib KiB)"
echo "the pod VM is in host cgroup $qemu_cg"
# The pod's host memory outside guest RAM (the RuntimeClass overhead, docs/containerd.md):
# every process under the pod's one shim daemon, VmRSS less RssShmem (the guest's memfd).
descendants() { echo "$1"; for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do descendants "$c"; done; }
pod_shim=$(pgrep -f -- "-address $sock" | head -1)
[ -n "$pod_shim" ] || fail "no shim daemon for the pod"
pod_kib=0 pod_procs=""
for p in $(descendants "$pod_shim"); do
  [ -r /proc/"$p"/status ] || continue
  rss=$(awk '$1=="VmRSS:"{print $2}' /proc/"$p"/status) shm=$(awk '$1=="RssShmem:"{print $2}' /proc/"$p"/status)
  pod_kib=$((pod_kib + ${rss:-0} - ${shm:-0})) pod_procs="$pod_procs $(cat /proc/"$p"/comm)=$((${rss:-0} - ${shm:-0}))"
done
echo "pod host memory outside guest RAM: $pod_kib KiB (pause + 2 containers;$pod_procs)"

cri stop --grace 2 "$c1" || fail "StopContainer c1"
expect_contains "$(cri status "$c1")" "state=CONTAINER_EXITED" "ContainerStatus c1 after stop"
cri rm "$c1" || fail "RemoveContainer c1"
cri rm "$c2" || fail "RemoveContainer c2"
cri stop-pod "$pod" || fail "StopPodSandbox"
cri rm-pod "$pod" || fail "RemovePodSandbox"

# A second pod takes the pooled VM: its sandbox container is the VM's first container, its
# veth takes the VM's spare link, and its app containers join it there.
start_ms=$(date +%s%3N)
pod2=$(cri run-pod --pod-name runvm-pod2 --log-dir "$tmp/logs" --runtime-handler runvm) ||
  fail "RunPodSandbox of the second pod"
echo "RunPodSandbox from the pool: $(( $(date +%s%3N) - start_ms )) ms"
pool_vm=$(state_field "$pod2" pod_sandbox)
case "$pool_vm" in runvm-pool-*) ;; *) fail "the second pod's sandbox is not in a pooled VM: '$pool_vm'";; esac
pod2_ip=$(cri pod-status "$pod2" | sed -n 's/.* ip=\([^ ]*\) .*/\1/p')
expect_contains "$pod2_ip" "$subnet." "the second pod's IP"
c3=$(cri create --pod-name runvm-pod2 --log-dir "$tmp/logs" --log-path c3.log "$pod2" c3 "$img" \
  -- sleep 2147483647) || fail "CreateContainer c3 in the pooled pod"
c4=$(cri create --pod-name runvm-pod2 --log-dir "$tmp/logs" --log-path c4.log "$pod2" c4 "$img" \
  -- sleep 2147483647) || fail "CreateContainer c4 in the pooled pod"
cri start "$c3" || fail "StartContainer c3"
cri start "$c4" || fail "StartContainer c4"
out3=$(cri exec "$c3" -- sh -c 'cat /proc/sys/kernel/random/boot_id; readlink /proc/self/ns/ipc; ip -o -4 addr show dev eth0; echo $(ls /sys/class/net)') ||
  fail "ExecSync c3"
out4=$(cri exec "$c4" -- sh -c 'cat /proc/sys/kernel/random/boot_id; readlink /proc/self/ns/ipc') ||
  fail "ExecSync c4"
boot3=$(echo "$out3" | sed -n 1p)
[ -n "$boot3" ] && [ "$boot3" != "$boot1" ] || fail "the pooled pod's boot id '$boot3' (the first pod's: $boot1)"
expect_eq "$(echo "$out4" | sed -n 1p)" "$boot3" "c4's boot id (one pooled VM for the pod)"
expect_eq "$(echo "$out4" | sed -n 2p)" "$(echo "$out3" | sed -n 2p)" "c4's IPC namespace (the pod's)"
expect_contains "$(echo "$out3" | sed -n 3p)" " inet $pod2_ip/24 " "ExecSync c3: eth0 has the pod IP"
expect_eq "$(echo "$out3" | sed -n 4p)" "eth0 lo" "ExecSync c3: the pod's links"
expect_eq "$(state_field "$c3" pod_sandbox)" "$pool_vm" "c3 runs in the pooled VM"
echo "the second pod runs in pooled VM $pool_vm (boot id $boot3, IP $pod2_ip)"
cri stop --grace 1 "$c3" || fail "StopContainer c3"
cri stop --grace 1 "$c4" || fail "StopContainer c4"
cri rm "$c3" || fail "RemoveContainer c3"
cri rm "$c4" || fail "RemoveContainer c4"
cri stop-pod "$pod2" || fail "StopPodSandbox of the pooled pod"
cri rm-pod "$pod2" || fail "RemovePodSandbox of the pooled pod"
for _ in $(seq 100); do [ ! -e "$tmp/runvm/k8s.io/$pool_vm" ] && break; sleep 0.1; done
[ ! -e "$tmp/runvm/k8s.io/$pool_vm" ] || fail "the pooled pod's VM $pool_vm outlived the pod"
drain_pool

sleep 1
if pgrep -af -- "-address $sock" >&2; then fail "a shim process is left"; fi
if pgrep -af "$tmp/image" >&2; then fail "a VM (qemu) process is left"; fi
if pgrep -af "runvm-vm/" >&2; then fail "a broker or VM process is left"; fi
[ -z "$(ls -A "$tmp/runvm/k8s.io" 2>/dev/null)" ] || fail "runvm state left: $(ls "$tmp/runvm/k8s.io")"
[ ! -e "$vm_dir" ] || fail "the pod VM's directory is left: $(ls -R "$vm_dir")"
links=$(ip -o link show)
! grep -q rvtap <<<"$links" || fail "a tap on the host"
! grep -q " $vm_dir" /proc/self/mountinfo || fail "mounts left under $vm_dir"
echo "CRI pod through runvm: RunPodSandbox, 2 containers, ExecSync (guest kernel $release)," \
  "exit 7 seen by ContainerStatus, CRI logs, stop and remove: ok"
