# Shared by tests/containerd/ctr_run.sh and scripts/bench/containerd.sh: a private containerd
# 1.6 (own config, root, state, socket under $tmp) and a busybox-static image built with umoci.
# Source it after setting tmp=<a fresh directory>; it defines sock, ctr, start_containerd,
# stop_containerd, import_busybox_image, remove_all_tasks, use_runvm_shim and
# cleanup_containerd_test.

sock=$tmp/containerd.sock
containerd_pid=""
ctr() { command ctr --address "$sock" "$@"; }

write_containerd_config() {
  cat >"$tmp/config.toml" <<TOML
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
}

# Starts containerd (appending to $tmp/containerd.log) and waits until it answers (30 s).
start_containerd() {
  [ -f "$tmp/config.toml" ] || write_containerd_config
  containerd --config "$tmp/config.toml" --log-level debug >>"$tmp/containerd.log" 2>&1 &
  containerd_pid=$!
  for _ in $(seq 300); do ctr version >/dev/null 2>&1 && return 0; sleep 0.1; done
  tail -20 "$tmp/containerd.log" >&2
  echo "containerd did not start" >&2
  return 1
}

# SIGTERM, then SIGKILL after 10 s; shims are left running (containerd's own behaviour).
stop_containerd() {
  [ -n "$containerd_pid" ] || return 0
  kill -TERM "$containerd_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$containerd_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$containerd_pid" 2>/dev/null || true
  wait "$containerd_pid" 2>/dev/null || true
  containerd_pid=""
  return 0
}

# import_busybox_image BUSYBOX APPLET...: localhost/runvm-busybox:latest, PATH=/bin, its
# command the words of the image_cmd array (default: sh), into ctr's namespace
# (CONTAINERD_NAMESPACE, else default).
image_cmd=(sh)
import_busybox_image() {
  local busybox=$1 oci=$tmp/oci a
  shift
  umoci init --layout "$oci"
  umoci new --image "$oci:latest"
  umoci unpack --image "$oci:latest" "$tmp/unpacked" >/dev/null
  mkdir -p "$tmp/unpacked/rootfs/bin" "$tmp/unpacked/rootfs/etc"
  cp "$busybox" "$tmp/unpacked/rootfs/bin/busybox"
  for a in "$@"; do ln -sf busybox "$tmp/unpacked/rootfs/bin/$a"; done
  echo 'root:x:0:0:root:/:/bin/sh' >"$tmp/unpacked/rootfs/etc/passwd"
  umoci repack --image "$oci:latest" "$tmp/unpacked"
  local cmd_flags=() w
  for w in "${image_cmd[@]}"; do cmd_flags+=(--config.cmd "$w"); done
  umoci config --image "$oci:latest" "${cmd_flags[@]}" --config.env PATH=/bin
  tar -C "$oci" -cf "$tmp/image.tar" .
  ctr images import --base-name localhost/runvm-busybox "$tmp/image.tar" >/dev/null
  # grep without -q reads to the end: an early exit would SIGPIPE ctr, which pipefail turns
  # into a failure (seen once in CI, under load).
  ctr images ls -q | grep -x localhost/runvm-busybox:latest >/dev/null
}

# Kills and deletes every task and container, then waits (10 s) for their shims to exit:
# a shim still sending its last events when containerd stops would be killed before it
# removes its socket from /run/containerd/s.
# timeout(1) runs the ctr binary, not the function above: the address is given here.
remove_all_tasks() {
  local c
  for c in $(timeout 10 ctr --address "$sock" tasks ls -q 2>/dev/null); do
    timeout 20 ctr --address "$sock" tasks kill -s KILL "$c"
    timeout 30 ctr --address "$sock" tasks delete -f "$c"
  done >/dev/null 2>&1
  for c in $(timeout 10 ctr --address "$sock" containers ls -q 2>/dev/null); do
    timeout 10 ctr --address "$sock" containers rm "$c"
  done >/dev/null 2>&1
  for _ in $(seq 100); do pgrep -f -- "-address $sock" >/dev/null || break; sleep 0.1; done
  return 0
}

# use_runvm_shim SHIM RUNVM AGENT BROKER: the guest image (the default kernel, else Debian's
# cloud kernel) built under $tmp, the shim on containerd's PATH and runvm's settings in its
# environment: QEMU (TCG), since these tests are about the shim, not KVM. Returns 1 when no
# image could be built.
use_runvm_shim() {
  local shim=$1 runvm=$2 agent=$3 broker=$4 repo image
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  image=$("$repo/scripts/build-guest-image.sh" --agent "$agent" --out "$tmp/image" 2>/dev/null) ||
    image=$("$repo/scripts/build-guest-image.sh" --agent "$agent" --kernel cloud --out "$tmp/image") ||
    return 1
  mkdir -p "$tmp/bin"
  ln -s "$shim" "$tmp/bin/containerd-shim-runvm-v2"
  export PATH=$tmp/bin:$PATH
  export RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio RUNVM_BROKER=$broker
  export RUNVM_HYPERVISOR=qemu RUNVM_CLI=$runvm RUNVM_SHIM_ROOT=$tmp/runvm
  # A TCG boot takes 2-3 s on an idle machine and over 30 s on a loaded one.
  export RUNVM_BOOT_TIMEOUT_MS=${RUNVM_BOOT_TIMEOUT_MS:-120000}
}

# The EXIT trap of a test: tasks and containerd stopped, the runtime's pooled VMs removed
# (one still booting included: killed below, its VM directory in /run/runvm-vm would outlive
# the --root that names it), then whatever still carries $tmp in its arguments (shims:
# -address, monitors: --root, QEMU: the image; brokers die with their monitor) killed and what
# a killed monitor left deleted, mounts under $tmp (rootfs, CRI's /dev/shm) detached, $tmp
# removed.
cleanup_containerd_test() {
  set +e
  if [ -n "$containerd_pid" ]; then
    remove_all_tasks
    stop_containerd
  fi
  local roots=() r c p
  if [ -n "${RUNVM_CLI:-}" ] && [ -d "${RUNVM_SHIM_ROOT:-}" ]; then
    roots=("$RUNVM_SHIM_ROOT"/*/) # one runvm --root per containerd namespace
    roots=("${roots[@]%/}") # as the shim spells it: the VM directory's name hashes it
  fi
  for r in "${roots[@]}"; do [ -d "$r" ] && "$RUNVM_CLI" --root "$r" template rm >/dev/null 2>&1; done
  for p in $(pgrep -f -- "$tmp/" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  for r in "${roots[@]}"; do
    [ -d "$r" ] || continue
    for c in $("$RUNVM_CLI" --root "$r" list -q 2>/dev/null); do
      "$RUNVM_CLI" --root "$r" delete --force "$c" >/dev/null 2>&1
    done
    "$RUNVM_CLI" --root "$r" template rm >/dev/null 2>&1
  done
  grep -o " $tmp[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$tmp"
}
