#!/usr/bin/env bash
# e2e with Debian's dockerd 20.10: a private daemon (its own data root, exec root, pid file
# and socket; no iptables, no bridge) registers runvm with --add-runtime and runs an
# imported busybox image in a microVM: the guest's kernel, the hostname, the output, the
# files Docker bind-mounts (/etc/hosts, resolv.conf, hostname: virtio-fs) and the exit
# status through `docker run`. Skips (77) when dockerd is missing or won't start.
set -euo pipefail
RUNVM=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_root
# Debian's docker.io (another `docker` may come first on PATH).
dockerd=/usr/sbin/dockerd
docker_cli=/usr/bin/docker
[ -x "$dockerd" ] && [ -x "$docker_cli" ] || skip "docker.io missing"
require_tools qemu-system-x86_64
require_static_busybox
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
require_built "$agent" "$broker"

tmp=$(mktemp -d /tmp/runvm-docker.XXXXXX)
sock=$tmp/docker.sock
docker() { "$docker_cli" -H "unix://$sock" "$@"; }
stop_dockerd() {
  local pid
  pid=$(cat "$tmp/docker.pid" 2>/dev/null || true)
  [ -n "$pid" ] || pid=${dockerd_pid:-}
  dockerd_pid=""
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  # The pooled VMs runvm's creates left (template: auto) go first, through runvm: killed
  # below, their VM directories in /run/runvm-vm would outlive the --root that names them.
  local root
  for root in $(awk '{for (i = 1; i < NF; i++) if ($i == "--root") print $(i + 1)}' \
                "$tmp/calls.log" 2>/dev/null | sort -u); do
    "$RUNVM" --root "$root" template rm >/dev/null 2>&1 || true
  done
  # dockerd's own containerd and its shims, found by our private paths (never by name alone).
  for p in $(pgrep -f "$tmp/" || true); do kill -KILL "$p" 2>/dev/null || true; done
  # Mounts under the private roots (overlay layers, netns, shm), deepest first.
  { grep -o " $tmp/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do
    umount -l "$m" || true
  done
}
cleanup() {
  local rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    echo "--- dockerd log (tail)" >&2; tail -40 "$tmp/dockerd.log" >&2 || true
    echo "--- runvm calls" >&2; cat "$tmp/calls.log" >&2 || true
    echo "--- runvm log" >&2; tail -40 "$tmp/runvm.log" >&2 || true
  fi
  stop_dockerd
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT

image=$(guest_image "$agent" "$tmp/image") || exit 77
# The runtime Docker calls: runvm itself, with the guest image chosen by environment (what
# /etc/runvm/config.yaml will say) and each call's arguments recorded for the failure report.
cat > "$tmp/runvm-runtime" <<EOF
#!/bin/sh
echo "\$*" >> $tmp/calls.log
export RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio
export RUNVM_BROKER=$broker RUNVM_HYPERVISOR=qemu
export RUNVM_BOOT_TIMEOUT_MS=${RUNVM_BOOT_TIMEOUT_MS:-120000}
exec $RUNVM "\$@" 2>>$tmp/runvm.log
EOF
chmod 0755 "$tmp/runvm-runtime"
echo '{}' > "$tmp/daemon.json"

# ARCHITECTURE.md: dockerd 20.10 runs here with --iptables=false --bridge=none and its own
# roots and socket.
"$dockerd" --config-file "$tmp/daemon.json" --data-root "$tmp/data" --exec-root "$tmp/exec" \
  --pidfile "$tmp/docker.pid" -H "unix://$sock" --iptables=false --bridge=none \
  --add-runtime "runvm=$tmp/runvm-runtime" >"$tmp/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 300); do
  docker version >/dev/null 2>&1 && break
  kill -0 "$dockerd_pid" 2>/dev/null || break
  sleep 0.1
done
if ! docker version >/dev/null 2>&1; then
  echo "dockerd did not start:"; tail -20 "$tmp/dockerd.log"; exit 77
fi
docker info --format '{{json .Runtimes}}' | grep -q '"runvm"' || fail "runvm not registered"

# A busybox image from a rootfs tar.
mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/etc" "$tmp/rootfs/tmp"
cp /bin/busybox "$tmp/rootfs/bin/busybox"
for a in sh echo uname hostname cat sleep true md5sum grep; do ln -sf busybox "$tmp/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/:/bin/sh' > "$tmp/rootfs/etc/passwd"
tar -C "$tmp/rootfs" -c . | docker import - runvm-e2e/busybox:latest >/dev/null

set +e
out=$(docker run --name runvm-fs --runtime runvm --network none runvm-e2e/busybox \
      sh -c 'uname -r; hostname; echo hi; md5sum /etc/hosts /etc/resolv.conf /etc/hostname; grep -c localhost /etc/hosts' \
      2>"$tmp/run.err")
rc=$?
set -e
echo "--- docker run: status $rc" >&2; echo "$out" >&2; cat "$tmp/run.err" >&2
expect_eq "$rc" 0 "docker run status"
expect_eq "$(echo "$out" | sed -n 3p)" "hi" "docker run output"
# Docker's bind mounts of its own hosts, resolv.conf and hostname files reach the guest
# (virtio-fs): the container saw exactly the files Docker wrote.
line=4
for f in HostsPath ResolvConfPath HostnamePath; do
  path=$(docker inspect -f "{{.$f}}" runvm-fs)
  [ -f "$path" ] || fail "docker inspect: $f '$path' is not a file"
  expect_eq "$(echo "$out" | sed -n ${line}p | cut -d' ' -f1)" "$(md5sum < "$path" | cut -d' ' -f1)" \
    "the guest's view of docker's $f"
  line=$((line + 1))
done
[ "$(echo "$out" | sed -n 7p)" -ge 1 ] || fail "docker's /etc/hosts has no localhost line"
docker rm runvm-fs >/dev/null
guest_release=$(echo "$out" | sed -n 1p)
[ -n "$guest_release" ] && [ "$guest_release" != "$(uname -r)" ] ||
  fail "docker run: kernel '$guest_release' is not a guest's (host: $(uname -r))"
[ -n "$(echo "$out" | sed -n 2p)" ] || fail "docker run: no hostname"

set +e
docker run --rm --runtime runvm --network none runvm-e2e/busybox sh -c 'exit 3' 2>"$tmp/run3.err"
rc=$?
set -e
echo "--- docker run 'exit 3': status $rc" >&2; cat "$tmp/run3.err" >&2
expect_eq "$rc" 3 "docker run exit status"

# --network host: refused with the reason (a VM cannot share the host's network without
# taking over its interfaces), and the host's links, addresses, qdiscs and filters untouched.
host_net() {
  ip -d link show; ip addr show | grep -v _lft; tc qdisc show
  for dev in $(ls /sys/class/net); do tc filter show dev "$dev" ingress; tc filter show dev "$dev" egress; done
}
host_net > "$tmp/net.before" 2>&1
set +e
docker run --rm --runtime runvm --network host runvm-e2e/busybox echo on-the-host >"$tmp/hostnet.out" 2>"$tmp/hostnet.err"
rc=$?
set -e
echo "--- docker run --network host: status $rc" >&2; cat "$tmp/hostnet.out" "$tmp/hostnet.err" >&2
[ "$rc" -ne 0 ] || fail "docker run --network host succeeded"
expect_contains "$(cat "$tmp/hostnet.err")" "host's interfaces to the VM; runvm refuses it" "docker run --network host: the reason"
host_net > "$tmp/net.after" 2>&1
diff "$tmp/net.before" "$tmp/net.after" >&2 || fail "docker run --network host changed the host's network"

# A terminal (`-it`, through containerd's runc shim and --console-socket): the prompt, typed
# input, the client's window size, the exit status. `script` gives the client its pty.
tty_run() { # COMMAND INPUT OUT: runs COMMAND under `script` with INPUT typed; its status in $rc
  local cmd=$1 input=$2 out=$3
  # The input comes once the VM has booted; its writer holds script's stdin open until
  # the command ends (script would end the session at EOF).
  set +e
  timeout 120 script -qefc "stty rows 33 cols 111; $cmd" /dev/null >"$out" 2>&1 \
    < <(echo "$BASHPID" > "$out.writer"; sleep 6; printf '%s' "$input"; exec sleep 120 2>/dev/null)
  rc=$?
  kill "$(cat "$out.writer")" 2>/dev/null
  set -e
  echo "--- $cmd: status $rc" >&2; cat -A "$out" | tail -20 >&2
}
tty_run "docker -H unix://$sock run -it --rm --runtime runvm --network none runvm-e2e/busybox sh" \
  'stty size; echo typed-$((1+2)); exit 5
' "$tmp/it.out"
expect_eq "$rc" 5 "docker run -it: exit status"
expect_contains "$(cat "$tmp/it.out")" "typed-3" "docker run -it: typed input ran"
expect_contains "$(cat "$tmp/it.out")" "33 111" "docker run -it: the client's window size"
# Detached with a terminal, then `docker exec -it` into it, then `docker rm -f`.
docker run -d -t --name runvm-dt --runtime runvm --network none runvm-e2e/busybox sh >/dev/null
expect_eq "$(docker inspect -f '{{.State.Running}}' runvm-dt)" true "docker run -d -t: running"
# docker top: `runvm ps --format json` gives host pids (the monitor, its broker and QEMU),
# which dockerd finds in the host's `ps -ef`.
top=$(docker top runvm-dt)
echo "--- docker top" >&2; echo "$top" >&2
[ "$(echo "$top" | tail -n +2 | grep -c .)" -ge 2 ] || fail "docker top: fewer than 2 rows"
expect_contains "$top" "qemu-system-x86_64" "docker top: the VM's hypervisor among the rows"
tty_run "docker -H unix://$sock exec -it runvm-dt sh" 'echo exec-$((2+3)); exit 6
' "$tmp/exec-it.out"
expect_eq "$rc" 6 "docker exec -it: exit status"
expect_contains "$(cat "$tmp/exec-it.out")" "exec-5" "docker exec -it: typed input ran"
timeout 60 "$docker_cli" -H "unix://$sock" rm -f runvm-dt >/dev/null || fail "docker rm -f of a tty container"

# --init: Docker's tini as the container's init (tcsetpgrp on a non-tty stdin: ENOTTY, as on
# a host, not the EOPNOTSUPP of a socket).
set +e
out=$(docker run --rm --init --runtime runvm --network none runvm-e2e/busybox sh -c 'echo init-ok; exit 4' 2>"$tmp/init.err")
rc=$?
set -e
echo "--- docker run --init: status $rc: $out" >&2; cat "$tmp/init.err" >&2
expect_eq "$rc" 4 "docker run --init: exit status"
expect_eq "$out" "init-ok" "docker run --init: output"

# --memory and --cpus size the VM (docs/resources.md): 2 vCPUs for 1.5 CPUs, the base RAM
# plus 300 MiB; the VM's processes sit in the container's host cgroup (/docker/<id>), so
# `docker stats` reads the VM's memory against its host limit and counts its tasks.
out=$(docker run --rm --runtime runvm --network none --memory 300m --cpus 1.5 runvm-e2e/busybox \
  sh -c 'nproc; grep MemTotal /proc/meminfo' 2>"$tmp/sized.err") || { cat "$tmp/sized.err" >&2; fail "docker run --memory --cpus"; }
expect_eq "$(echo "$out" | sed -n 1p)" 2 "docker run --cpus 1.5: the guest's CPUs"
[ "$(echo "$out" | awk '/MemTotal/ {print int($2 / 1024)}')" -gt 300 ] ||
  fail "docker run --memory 300m: guest MemTotal not above 300 MiB: $out"
cid=$(docker run -d --runtime runvm --network none --memory 300m runvm-e2e/busybox sleep 600)
stats=$(docker stats --no-stream --format '{{.MemUsage}} {{.PIDs}}' "$cid")
echo "--- docker stats: $stats" >&2
limit=$(echo "$stats" | awk '{print $3}')
case $limit in *MiB) ;; *) fail "docker stats: memory limit '$limit' is not the container's (MiB)";; esac
mib=${limit%MiB}; mib=${mib%%.*}
[ "$mib" -gt 300 ] && [ "$mib" -lt 2048 ] || fail "docker stats: limit $limit: not the VM's RAM + overhead"
[ "$(echo "$stats" | awk '{print $4}')" -gt 0 ] || fail "docker stats: PIDS 0"
cgdir=/sys/fs/cgroup/memory/docker/$cid; [ -d /sys/fs/cgroup/memory ] || cgdir=/sys/fs/cgroup/docker/$cid
grep -qx "$(docker inspect -f '{{.State.Pid}}' "$cid")" "$cgdir/cgroup.procs" ||
  fail "the monitor is not in the container's host cgroup $cgdir"
docker rm -f "$cid" >/dev/null
[ ! -d "$cgdir" ] || fail "docker rm -f left the host cgroup $cgdir"

expect_eq "$(docker ps -aq)" "" "no containers left in docker"
stop_dockerd
# Every container Docker created through runvm is gone: state, VM directory, processes.
python3 - "$tmp/calls.log" > "$tmp/created" <<'PY'
import sys
for line in open(sys.argv[1]):
    a = line.split()
    if "create" in a:
        print(a[a.index("--root") + 1], a[-1])
PY
[ -s "$tmp/created" ] || fail "docker never called runvm create"
while read -r croot cid; do expect_gone "$croot" "$cid" "docker container $cid"; done < "$tmp/created"
echo "docker: ok"
