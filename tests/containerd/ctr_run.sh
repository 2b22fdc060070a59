#!/usr/bin/env bash
# containerd 1.6 (Debian's) driving containerd-shim-runvm-v2 through ctr, with its own
# config, root, state and socket: an OCI image built here (busybox-static packed with umoci)
# is imported, then
#  1. ctr run --rm: the guest's kernel, output and exit status 3;
#  2. a detached task: exec (output, status), ps, pause/resume, metrics, kill, delete;
#  afterwards no shim, broker or VM process remains. Two VM boots in all (QEMU TCG).
# usage: ctr_run.sh SHIM RUNVM BUILD_DIR   (RUNVM_TEST_AGENT / RUNVM_TEST_BROKER: other
#        runvm-agent / runvm-broker binaries than BUILD_DIR's)
set -euo pipefail
shim=$(readlink -f "$1")
runvm=$(readlink -f "$2")
build=$(readlink -f "$3")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
expect_contains() { case "$1" in *"$2"*) ;; *) fail "$3: '$2' not in '$1'";; esac; }

[ "$(id -u)" -eq 0 ] || skip "needs root"
for tool in containerd ctr umoci qemu-system-x86_64 python3; do
  command -v "$tool" >/dev/null || skip "$tool missing"
done
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" | grep -q 'statically linked' || skip "busybox-static missing"
agent=${RUNVM_TEST_AGENT:-$build/guest_agent/runvm-agent}
broker=${RUNVM_TEST_BROKER:-$build/broker/runvm-broker}
[ -x "$agent" ] || skip "runvm-agent not built ($agent)"
[ -x "$broker" ] || skip "runvm-broker not built ($broker)"

tmp=$(mktemp -d /tmp/runvm-ctr.XXXXXX)
sock=$tmp/containerd.sock
ctr() { command ctr --address "$sock" "$@"; }
containerd_pid=""
cleanup() {
  set +e
  if [ -n "$containerd_pid" ]; then
    for c in $(timeout 10 ctr tasks ls -q 2>/dev/null); do
      timeout 20 ctr tasks kill -s KILL "$c"; timeout 30 ctr tasks delete -f "$c"
    done >/dev/null 2>&1
    for c in $(timeout 10 ctr containers ls -q 2>/dev/null); do
      timeout 10 ctr containers rm "$c"
    done >/dev/null 2>&1
    kill -TERM "$containerd_pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$containerd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$containerd_pid" 2>/dev/null
  fi
  # What this test started carries its directory in its arguments: shims (-address),
  # monitors (--root), QEMU (the image); brokers die with their monitor.
  for p in $(pgrep -f -- "$tmp/" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  grep -o " $tmp/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' TERM INT

# Guest image and the shim's helpers; QEMU (TCG): this test is about the shim, not KVM.
# The default kernel first; Debian's cloud kernel when that one cannot be packed.
image=$("$repo/scripts/build-guest-image.sh" --agent "$agent" --out "$tmp/image" 2>/dev/null) ||
  image=$("$repo/scripts/build-guest-image.sh" --agent "$agent" --kernel cloud --out "$tmp/image") ||
  skip "guest image could not be built"
mkdir -p "$tmp/bin"
ln -s "$shim" "$tmp/bin/containerd-shim-runvm-v2"
export PATH=$tmp/bin:$PATH
export RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio.gz RUNVM_BROKER=$broker
export RUNVM_HYPERVISOR=qemu RUNVM_CLI=$runvm RUNVM_SHIM_ROOT=$tmp/runvm
# A TCG boot takes 2-3 s on an idle machine and over 30 s on a loaded one.
export RUNVM_BOOT_TIMEOUT_MS=${RUNVM_BOOT_TIMEOUT_MS:-120000}

cat > "$tmp/config.toml" <<TOML
version = 2
root = "$tmp/root"
state = "$tmp/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$tmp/opt"
TOML
containerd --config "$tmp/config.toml" --log-level debug >"$tmp/containerd.log" 2>&1 &
containerd_pid=$!
for _ in $(seq 300); do ctr version >/dev/null 2>&1 && break; sleep 0.1; done
ctr version >/dev/null 2>&1 || { tail -20 "$tmp/containerd.log" >&2; fail "containerd did not start"; }

# The image: busybox-static in an OCI layout, packed by umoci.
oci=$tmp/oci
umoci init --layout "$oci"
umoci new --image "$oci:latest"
umoci unpack --image "$oci:latest" "$tmp/unpacked" >/dev/null
mkdir -p "$tmp/unpacked/rootfs/bin" "$tmp/unpacked/rootfs/etc"
cp "$busybox" "$tmp/unpacked/rootfs/bin/busybox"
for a in sh echo cat sleep uname trap true hostname; do ln -sf busybox "$tmp/unpacked/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/:/bin/sh' > "$tmp/unpacked/rootfs/etc/passwd"
umoci repack --image "$oci:latest" "$tmp/unpacked"
umoci config --image "$oci:latest" --config.cmd sh --config.env PATH=/bin
tar -C "$oci" -cf "$tmp/image.tar" .
ctr images import --base-name localhost/runvm-busybox "$tmp/image.tar" >/dev/null
img=localhost/runvm-busybox:latest
ctr images ls -q | grep -qx "$img" || fail "image import: $(ctr images ls -q)"

# 1. ctr run --rm: output, the guest's own kernel, exit status.
set +e
ctr run --rm --runtime io.containerd.runvm.v2 "$img" c1 sh -c 'uname -r; echo hi; exit 3' \
  </dev/null >"$tmp/run.out" 2>"$tmp/run.err"
rc=$?
set -e
cat "$tmp/run.out" "$tmp/run.err" >&2
expect_eq "$rc" 3 "ctr run exit status"
expect_contains "$(cat "$tmp/run.out")" "hi" "ctr run output"
guest_release=$(head -1 "$tmp/run.out")
[ -n "$guest_release" ] && [ "$guest_release" != "$(uname -r)" ] ||
  fail "guest kernel '$guest_release' is the host's"
ctr containers ls -q | grep -qx c1 && fail "--rm left container c1"

# 2. A detached task and the verbs around it.
ctr run -d --runtime io.containerd.runvm.v2 "$img" c2 \
  sh -c 'trap "exit 42" TERM; while true; do sleep 0.1; done' </dev/null
expect_eq "$(ctr tasks ls | awk '$1=="c2"{print $3}')" RUNNING "task c2 after run -d"
set +e
out=$(ctr tasks exec --exec-id e1 c2 sh -c 'echo exec-ok; exit 5' </dev/null)
rc=$?
set -e
expect_eq "$rc" 5 "exec exit status"
expect_eq "$out" "exec-ok" "exec output"
pids=$(ctr tasks ps c2 | tail -n +2 | wc -l)
[ "$pids" -ge 1 ] || fail "ctr tasks ps c2 listed no process"
ctr tasks pause c2
expect_eq "$(ctr tasks ls | awk '$1=="c2"{print $3}')" PAUSED "task c2 after pause"
ctr tasks resume c2
expect_eq "$(ctr tasks ls | awk '$1=="c2"{print $3}')" RUNNING "task c2 after resume"
ctr tasks metrics c2 >"$tmp/metrics" 2>&1 || { cat "$tmp/metrics" >&2; fail "ctr tasks metrics"; }
ctr tasks kill c2
for _ in $(seq 100); do
  [ "$(ctr tasks ls | awk '$1=="c2"{print $3}')" = STOPPED ] && break
  sleep 0.1
done
expect_eq "$(ctr tasks ls | awk '$1=="c2"{print $3}')" STOPPED "task c2 after kill"
ctr tasks delete c2 >"$tmp/delete.out"
ctr containers rm c2

# The shims' events reached containerd (its exchange logs each forward at debug level):
# every topic of this slice was forwarded and none was refused.
forwarded() { grep 'event forwarded' "$tmp/containerd.log" | grep -o 'topic=[^ ]*' | cut -d= -f2; }
for t in /tasks/create /tasks/start /tasks/exec-added /tasks/exec-started /tasks/paused \
         /tasks/resumed /tasks/exit /tasks/delete; do
  forwarded | grep -qx "$t" || { forwarded >&2; fail "event $t was not forwarded"; }
done
if grep 'error forwarding event' "$tmp/containerd.log" >&2; then fail "containerd refused an event"; fi

# Nothing of the shim or the VMs may outlive the tasks.
sleep 1
if pgrep -f -- "-address $sock" >/dev/null; then
  pgrep -af -- "-address $sock" >&2; fail "a shim process is left"
fi
if pgrep -f "$tmp/image" >/dev/null; then
  pgrep -af "$tmp/image" >&2; fail "a VM (qemu) process is left"
fi
if pgrep -f "runvm-vm/" >/dev/null; then
  pgrep -af "runvm-vm/" >&2; fail "a broker or VM process is left"
fi
[ -z "$(ls -A "$tmp/runvm/default" 2>/dev/null)" ] || fail "runvm state left: $(ls "$tmp/runvm/default")"
# Each shim removed its socket (containerd 1.6's name: sha256 of address/namespace/id).
for id in c1 c2; do
  s=/run/containerd/s/$(printf '%s' "$sock/default/$id" | sha256sum | cut -d' ' -f1)
  [ ! -e "$s" ] || fail "the shim of $id left its socket $s"
done
echo "ctr run: guest kernel $guest_release, exit 3; exec, ps, pause/resume, metrics, kill, delete: ok"
