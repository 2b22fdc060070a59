#!/usr/bin/env bash
# Installs runvm for containerd and Kubernetes: the binaries (runvm, containerd-shim-runvm-v2,
# runvm-broker, runvm-vmm, runvm-jail), the guest image (kernel + initramfs with runvm-agent) and a
# default /etc/runvm/config.yaml; then prints containerd's config for the runtime.
# usage: scripts/install.sh [--build DIR] [--prefix DIR] [--destdir DIR] [--no-image]
#                           [--kernel minimal|cloud]
#   --build    the build tree (default: build/, else the newest build*/ with every binary)
#   --prefix   where binaries go (default /usr/local; all in bin/: containerd finds the
#              shim on PATH and runvm finds its helpers beside itself)
#   --destdir  a staging root prepended to every path (packaging, tests)
#   --no-image skip building the guest image (/var/cache/runvm/image)
#   --kernel   the guest kernel: minimal (default) builds runvm's own (scripts/build-kernel.sh,
#              about 6 min of 2 cores, once; a cold start in about 0.65x the cloud kernel's);
#              cloud takes Debian's cloud kernel at once (docs/kernel.md)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=""
prefix=/usr/local
destdir=""
image=1
kernel=minimal
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --destdir) destdir=$2; shift 2 ;;
    --no-image) image=0; shift ;;
    --kernel) kernel=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "install: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$kernel" in
  minimal|cloud) ;;
  *) echo "install: --kernel wants minimal or cloud, not '$kernel'" >&2; exit 2 ;;
esac

has_all() {
  [ -x "$1/shim/cli/runvm" ] && [ -x "$1/shim/containerd/containerd-shim-runvm-v2" ] &&
    [ -x "$1/broker/runvm-broker" ] && [ -x "$1/guest_agent/runvm-agent" ]
}
if [ -z "$build" ]; then
  for candidate in "$repo/build" $(ls -dt "$repo"/build* 2>/dev/null); do
    if has_all "$candidate"; then build=$candidate; break; fi
  done
fi
[ -n "$build" ] && has_all "$build" || {
  echo "install: no build tree with runvm, containerd-shim-runvm-v2, runvm-broker and" \
       "runvm-agent (cmake --build <dir>; or pass --build DIR)" >&2
  exit 1
}

bindir=$destdir$prefix/bin
install -d "$bindir"
install -m 0755 "$build/shim/cli/runvm" "$bindir/runvm"
install -m 0755 "$build/shim/containerd/containerd-shim-runvm-v2" \
  "$bindir/containerd-shim-runvm-v2"
install -m 0755 "$build/broker/runvm-broker" "$bindir/runvm-broker"
if [ -x "$build/vmm/runvm-vmm" ]; then
  install -m 0755 "$build/vmm/runvm-vmm" "$bindir/runvm-vmm"
fi
if [ -x "$build/jail/runvm-jail" ]; then
  install -m 0755 "$build/jail/runvm-jail" "$bindir/runvm-jail"
fi
echo "install: binaries in $bindir"
# The jail's user, on this host (not in a --destdir staging root, which has no user database).
if [ -z "$destdir" ]; then
  "$repo/scripts/jail-user.sh"
fi

config=$destdir/etc/runvm/config.yaml
if [ ! -e "$config" ]; then
  install -d "$(dirname "$config")"
  cat > "$config" <<YAML
# runvm's settings (docs/config.md); every key is optional.
hypervisor: auto
vcpus: 1
memory_mib: 256
YAML
  echo "install: wrote $config"
else
  echo "install: kept the existing $config"
fi

if [ "$image" = 1 ]; then
  out=$destdir/var/cache/runvm/image
  export RUNVM_MINIMAL_KERNEL_DIR=$destdir/var/cache/runvm/kernel-minimal
  if [ "$kernel" = minimal ] && ! "$repo/scripts/build-kernel.sh" --current "$RUNVM_MINIMAL_KERNEL_DIR"; then
    echo "install: building the minimal guest kernel (once; about 6 min on 2 cores;" \
         "--kernel cloud skips it)"
  fi
  # A kernel that does not build leaves the install on Debian's cloud kernel, which runs
  # every container too (its boot is slower): the install itself does not fail for it.
  if [ "$kernel" = minimal ] && ! "$repo/scripts/build-kernel.sh" "$RUNVM_MINIMAL_KERNEL_DIR" >/dev/null; then
    echo "install: the minimal kernel did not build (above): the guest image takes Debian's" \
         "cloud kernel" >&2
    kernel=cloud
  fi
  "$repo/scripts/build-guest-image.sh" --agent "$build/guest_agent/runvm-agent" --out "$out" \
    --kernel "$kernel" >/dev/null
  echo "install: guest image in $out ($kernel kernel $(awk '$1=="kernel_release"{print $2}' "$out/manifest"))"
fi

cat <<'TOML'

containerd 1.x (/etc/containerd/config.toml, version = 2), then restart containerd:

  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runvm]
    runtime_type = "io.containerd.runvm.v2"
    pod_annotations = ["io.runvm.*"]

`ctr run --runtime io.containerd.runvm.v2 IMAGE ID` needs nothing more: containerd finds
containerd-shim-runvm-v2 on its PATH. Kubernetes: a RuntimeClass with handler "runvm"
(docs/containerd.md).
TOML
