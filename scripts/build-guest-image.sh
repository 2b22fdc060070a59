#!/usr/bin/env bash
# Builds runvm's guest image into a cache directory: the kernel (vmlinuz) and an initramfs
# with the static runvm-agent as /init, the kernel modules it loads (for Debian's cloud
# kernel, with their dependencies, in load order) and a manifest. Reproducible: the same
# inputs give the same bytes (sorted cpio, fixed mtimes and owners). Not compressed: the
# kernel's gunzip of a 1.8 MB initramfs was ~100 ms of every TCG boot (docs/guest-image.md).
# usage: scripts/build-guest-image.sh [--agent PATH] [--kernel auto|cloud|minimal]
#                                     [--out DIR] [--init PATH (instead of the agent)]
#   defaults: agent from build*/guest_agent/runvm-agent, kernel auto (the minimal kernel of
#   scripts/build-kernel.sh when built from today's kernel_config/, else the cloud kernel),
#   out /var/cache/runvm/image.
# Prints the output directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${RUNVM_IMAGE_DIR:-/var/cache/runvm/image}
agent=""
kernel=auto
init_override=""
minimal_dir=${RUNVM_MINIMAL_KERNEL_DIR:-/var/cache/runvm/kernel-minimal}
while [ $# -gt 0 ]; do
  case "$1" in
    --agent) agent=$2; shift 2 ;;
    --kernel) kernel=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --init) init_override=$2; shift 2 ;;
    *) echo "build-guest-image: unknown argument $1" >&2; exit 2 ;;
  esac
done
# Fixed timestamps: SOURCE_DATE_EPOCH when the caller sets one, else 0.
epoch=${SOURCE_DATE_EPOCH:-0}

init=$init_override
if [ -z "$init" ]; then
  if [ -z "$agent" ]; then
    for candidate in "$root"/build/guest_agent/runvm-agent "$root"/build*/guest_agent/runvm-agent; do
      if [ -x "$candidate" ]; then agent=$candidate; break; fi
    done
  fi
  [ -n "$agent" ] && [ -x "$agent" ] || {
    echo "build-guest-image: runvm-agent not found (build it, or pass --agent PATH)" >&2; exit 1; }
  if ! file -L "$agent" 2>/dev/null | grep -Eq 'statically linked|static-pie linked' && \
     ldd "$agent" >/dev/null 2>&1; then
    echo "build-guest-image: $agent is dynamically linked; /init must be static" >&2; exit 1
  fi
  init=$agent
fi

if [ "$kernel" = auto ]; then
  kernel=cloud
  if "$root/scripts/build-kernel.sh" --current "$minimal_dir"; then
    kernel=minimal
  elif [ -s "$minimal_dir/bzImage" ]; then # built from other fragments: it may lack some
    echo "build-guest-image: the minimal kernel in $minimal_dir predates kernel_config/" \
         "(scripts/build-kernel.sh rebuilds it): taking the cloud kernel" >&2
  fi
fi
case "$kernel" in
  cloud)
    kdir=$("$root/scripts/guest-kernel.sh")
    vmlinuz=$kdir/vmlinuz
    release=$(cat "$kdir/release")
    moddir=$kdir/modules/$release ;;
  minimal)
    [ -s "$minimal_dir/bzImage" ] || { echo "build-guest-image: no minimal kernel in $minimal_dir (scripts/build-kernel.sh)" >&2; exit 1; }
    vmlinuz=$minimal_dir/bzImage
    release=$(cat "$minimal_dir/release")
    moddir="" ;;
  *) echo "build-guest-image: --kernel wants auto, cloud or minimal" >&2; exit 2 ;;
esac

# The cloud kernel's virtio and vsock drivers are modules; ext4 is built in. Load order per
# docs/guest-image.md; each module's own dependencies (modinfo) come before it.
# Both hypervisors give the guest virtio-mmio only (microvm, no PCI), so no virtio_pci; each
# finit_module costs tens of ms under TCG. fuse + virtiofs: the host's bind-mount sources
# (docs/virtiofs.md, Runtime).
wanted=(virtio_ring virtio virtio_mmio virtio_console vsock vmw_vsock_virtio_transport_common
        vmw_vsock_virtio_transport virtio_blk overlay fuse virtiofs
        virtio_net) # + failover, net_failover (its dependencies): docs/networking.md

tmp=$(mktemp -d "${TMPDIR:-/tmp}/runvm-image.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/tree
mkdir -p "$tree"/{dev,proc,sys,run,tmp,mnt,etc/runvm,newroot}
# The agent is /init. The initramfs root (rootfs) cannot be pivot_root'ed away from, and the
# agent pivot_roots into each container, so it first moves itself onto a tmpfs root (as
# switch_root does; guest_agent/pid1/initramfs_root.cpp): no shell, no copying.
install -m 0755 "$init" "$tree/init"
# Debug info is most of an unstripped agent (64 MB vs a few MB): the guest never needs it, and
# it would make the initramfs (and every boot's copy into guest RAM) several times larger.
if command -v strip >/dev/null; then strip --strip-all "$tree/init"; fi
: > "$tree/etc/runvm/modules.manifest"

declare -A placed=()
add_module() {
  local name=$1 path dep
  [ -n "${placed[$name]:-}" ] && return 0
  path=$(cd "$moddir" && find kernel -name "$name.ko" -o -name "$name.ko.xz" -o -name "$name.ko.zst" | head -1)
  [ -n "$path" ] || { echo "build-guest-image: module $name not in $moddir" >&2; exit 1; }
  for dep in $(modinfo -F depends "$moddir/$path" | tr ',' ' '); do
    add_module "$dep"
  done
  placed[$name]=1
  mkdir -p "$tree/lib/modules/$release/$(dirname "$path")"
  case "$path" in
    *.xz) xz -dc "$moddir/$path" > "$tree/lib/modules/$release/${path%.xz}"; path=${path%.xz} ;;
    *.zst) zstd -qdc "$moddir/$path" > "$tree/lib/modules/$release/${path%.zst}"; path=${path%.zst} ;;
    *) cp "$moddir/$path" "$tree/lib/modules/$release/$path" ;;
  esac
  echo "/lib/modules/$release/$path" >> "$tree/etc/runvm/modules.manifest"
}
if [ -n "$moddir" ]; then
  for m in "${wanted[@]}"; do add_module "$m"; done
fi

{
  echo "# runvm guest image manifest"
  echo "kernel_release $release"
  echo "kernel $(basename "$vmlinuz") $(sha256sum < "$vmlinuz" | cut -d' ' -f1)"
  echo "init $(sha256sum < "$tree/init" | cut -d' ' -f1)"
  (cd "$tree" && { find lib -type f 2>/dev/null || true; } | LC_ALL=C sort | while read -r f; do
     echo "module /$f $(sha256sum < "$f" | cut -d' ' -f1)"; done)
} > "$tree/etc/runvm/manifest"

find "$tree" -exec touch -h -d "@$epoch" {} +
mkdir -p "$out"
(cd "$tree" && find . -mindepth 1 | LC_ALL=C sort |
   cpio --quiet -o -H newc --reproducible --owner=0:0) > "$tmp/initramfs.cpio"
cp "$vmlinuz" "$tmp/vmlinuz"
cp "$tree/etc/runvm/manifest" "$tmp/manifest"
echo "initramfs $(sha256sum < "$tmp/initramfs.cpio" | cut -d' ' -f1)" >> "$tmp/manifest"
for f in vmlinuz initramfs.cpio manifest; do
  mv -f "$tmp/$f" "$out/$f.new" && mv -f "$out/$f.new" "$out/$f"
done
rm -f "$out/initramfs.cpio.gz" # an older image's (gzip) copy
echo "$out"
