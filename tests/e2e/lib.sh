# Shared helpers of the e2e scripts: busybox bundles, checks, cleanup checks.
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
expect_contains() { case "$1" in *"$2"*) ;; *) fail "$3: '$2' not in '$1'";; esac; }

# What makes a script skip (exit 77: ctest counts it as skipped), each naming what is missing.
skip() { echo "$*: skipped"; exit 77; }
require_root() { [ "$(id -u)" -eq 0 ] || skip "needs root${1:+ ($1)}"; }
require_tools() { local t; for t in "$@"; do command -v "$t" >/dev/null || skip "$t missing"; done; }
require_static_busybox() {
  file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || skip "busybox-static missing"
}
require_built() { local b; for b in "$@"; do [ -x "$b" ] || skip "$b not built"; done; }

# make_bundle DIR ARGS_JSON [EXTRA_JQ_PYTHON]: a busybox rootfs and runc's default config
# with process.args = ARGS_JSON, terminal off.
make_bundle() {
  local dir=$1 args=$2 edit=${3:-}
  mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" \
           "$dir/rootfs/tmp" "$dir/rootfs/etc" "$dir/rootfs/work"
  cp /bin/busybox "$dir/rootfs/bin/busybox"
  for a in sh echo cat id pwd hostname uname sleep true false ls env read touch stty tty; do
    ln -sf busybox "$dir/rootfs/bin/$a"
  done
  echo 'root:x:0:0:root:/:/bin/sh' > "$dir/rootfs/etc/passwd"
  (cd "$dir" && "$RUNVM" spec)
  python3 - "$dir/config.json" "$args" "$edit" <<'PY'
import json, sys
path, args, edit = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = args
c["hostname"] = "runvm-e2e"
if edit:
    exec(edit)
json.dump(c, open(path, "w"), indent=1)
PY
}

# sandbox_dir ROOT ID: the container's VM directory (ContainerStore::run_dir: FNV-1a of
# "ROOT\nID", 12 hex digits, under /run/runvm-vm for root).
sandbox_dir() {
  python3 - "$1" "$2" <<'PY'
import sys
h = 1469598103934665603
for b in (sys.argv[1] + "\n" + sys.argv[2]).encode():
    h = ((h ^ b) * 1099511628211) % (1 << 64)
print("/run/runvm-vm/" + ("%016x" % h)[:12])
PY
}

# expect_gone ROOT ID WHAT: nothing of this container is left: no process that names its
# VM directory (broker, QEMU), no directory (sockets, image, logs), no mount, no state.
expect_gone() {
  local root=$1 id=$2 what=$3 dir
  dir=$(sandbox_dir "$root" "$id")
  if pgrep -f "$dir" >/dev/null 2>&1; then
    pgrep -af "$dir" >&2; fail "$what: processes of the sandbox left behind"
  fi
  [ ! -e "$dir" ] || { ls -la "$dir" >&2; fail "$what: sandbox directory $dir left behind"; }
  ! grep -q -e "$dir" -e "$root/" /proc/mounts || fail "$what: a mount left behind"
  [ ! -e "$root/$id" ] || { ls -la "$root/$id" >&2; fail "$what: state directory left behind"; }
}

# stop_and_delete ROOT ID WHAT: `kill TERM`, up to 10 s for the state to say stopped, then
# `delete` and expect_gone ($RUNVM is the runvm under test).
stop_and_delete() {
  local root=$1 id=$2 what=$3
  "$RUNVM" --root "$root" kill "$id" TERM
  for _ in $(seq 100); do
    [ "$("$RUNVM" --root "$root" state "$id" |
         python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" = stopped ] && break
    sleep 0.1
  done
  "$RUNVM" --root "$root" delete "$id"
  expect_gone "$root" "$id" "$what"
}

# host_abstract_listener NAME LOG: a host abstract unix socket NAME (abstract names are per
# network namespace) that accepts whoever reaches it, in the background ($listener_pid);
# returns once it listens and the host itself reached it. $connect_abstract is python3 code
# that prints "connected" or the connect error's text, to run inside a jail's namespaces.
host_abstract_listener() {
  local name=$1 log=$2
  python3 - "$name" >"$log" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind("\0" + sys.argv[1]); s.listen(8)
print("listening", flush=True)
while True:
    c, _ = s.accept(); c.close()
PY
  listener_pid=$!
  for _ in $(seq 50); do grep -q listening "$log" && break; sleep 0.1; done
  connect_abstract="import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect('\\0$name'); print('connected')
except OSError as e:
    print(e.strerror)"
  expect_eq "$(python3 -c "$connect_abstract")" connected "the host reaches its own abstract socket"
}

# console_receiver SOCKET OUT [SEND EXPECT]...: the --console-socket peer, in the
# background (its pid in $receiver_pid); returns once it listens.
console_receiver() {
  local sock=$1 i
  "$here/console_receiver.py" "$@" &
  receiver_pid=$!
  for i in $(seq 100); do [ -S "$sock" ] && return 0; sleep 0.1; done
  fail "console receiver did not listen on $sock"
}

# wait_receiver PID OUT WHAT: its status must be 0 (every expected text seen), within 60 s.
wait_receiver() {
  local pid=$1 out=$2 what=$3 rc
  timeout 60 tail --pid="$pid" -f /dev/null || kill "$pid" 2>/dev/null || true
  set +e; wait "$pid"; rc=$?; set -e
  [ "$rc" -eq 0 ] || { cat -A "$out" >&2; fail "$what: console receiver status $rc"; }
  expect_eq "$(head -1 "$out")" "/dev/ptmx" "$what: the name sent with the master (runc's)"
}

# guest_image AGENT OUT: scripts/build-guest-image.sh with the agent stripped first (its
# debug info is 90% of the file: a 23 MB initramfs instead of 3.5 MB, seconds per TCG boot).
# The kernel: RUNVM_E2E_KERNEL (cloud, minimal or auto), default cloud: Debian's, the one
# the agent reaches on QEMU microvm today.
guest_image() {
  local agent=$1 out=$2
  mkdir -p "$out"
  strip -o "$out/runvm-agent.stripped" "$agent"
  "$repo/scripts/build-guest-image.sh" --agent "$out/runvm-agent.stripped" --out "$out" \
    --kernel "${RUNVM_E2E_KERNEL:-cloud}"
}

# use_qemu_guest AGENT BROKER OUT: builds the guest image in OUT and points runvm at it, the
# broker and QEMU (TCG boots slow down a lot when ctest runs two VM tests at once on 2
# cores: hence the long boot deadline). Fails when the image cannot be built.
use_qemu_guest() {
  local agent=$1 broker=$2 out=$3 image
  image=$(guest_image "$agent" "$out") || return 1
  export RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio RUNVM_BROKER=$broker
  export RUNVM_HYPERVISOR=qemu
  export RUNVM_BOOT_TIMEOUT_MS=${RUNVM_BOOT_TIMEOUT_MS:-120000}
}

# veth_namespaces A B NET ROUTED: network namespaces A and B joined by a veth pair, MTU 1400:
# A's end is eth0 with NET.1/24 and a route to ROUTED (a /16) via B's end, vb with NET.2/24.
# Prints A's eth0 MAC.
veth_namespaces() {
  local a=$1 b=$2 net=$3 routed=$4
  ip netns add "$a"
  ip netns add "$b"
  ip link add va netns "$a" type veth peer name vb netns "$b"
  ip -n "$a" link set va name eth0 mtu 1400 up
  ip -n "$a" addr add "$net.1/24" dev eth0
  ip -n "$a" route add "$routed/16" via "$net.2"
  ip -n "$b" link set vb mtu 1400 up
  ip -n "$b" addr add "$net.2/24" dev vb
  ip -n "$b" link set lo up
  ip netns exec "$a" cat /sys/class/net/eth0/address
}
