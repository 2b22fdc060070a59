#!/usr/bin/env bash
# Where a `runvm run` of `true` spends its TCG translation: boots once with QEMU's
# `-d in_asm` log and prints, per step of the agent, the guest instructions QEMU translated
# in the kernel and in the agent (scripts/bench/tcg_profile.py; docs/benchmarks.md).
# usage: scripts/bench/tcg-profile.sh [FROM_MARKER TO_MARKER [N]]   (as root, after a build;
#   needs the minimal kernel's vmlinux from scripts/build-kernel.sh for kernel symbols;
#   TCG_PROFILE_LOG=PATH keeps the log there for more tcg_profile.py queries)
set -euo pipefail
# Every container boots its own VM here unless asked (template: auto would start the later
# ones in pooled VMs booted in the background, docs/design/fast-start.md).
export RUNVM_TEMPLATE=${RUNVM_TEMPLATE:-off}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
vmlinux=${RUNVM_MINIMAL_KERNEL_DIR:-/var/cache/runvm/kernel-minimal}/vmlinux
[ -s "$vmlinux" ] || { echo "tcg-profile: no $vmlinux (scripts/build-kernel.sh)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/runvm-tcg-profile.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
image=$("$root/scripts/build-guest-image.sh" --agent "$build/guest_agent/runvm-agent" \
  --out "$tmp/image" --kernel minimal)
mkdir -p "$tmp/b/rootfs/bin"
cp /bin/busybox "$tmp/b/rootfs/bin/"; ln -s busybox "$tmp/b/rootfs/bin/true"
(cd "$tmp/b" && "$build/shim/cli/runvm" spec)
python3 -c 'import json,sys; p=sys.argv[1]; c=json.load(open(p)); c["process"]["terminal"]=False; c["process"]["args"]=["true"]; json.dump(c,open(p,"w"))' "$tmp/b/config.json"
log=${TCG_PROFILE_LOG:-$tmp/in_asm.log}
rm -f "$log"
printf '#!/bin/sh\nexec qemu-system-x86_64 "$@" -d in_asm -D %s\n' "$log" > "$tmp/qemu"
chmod +x "$tmp/qemu"
RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio RUNVM_HYPERVISOR=qemu \
  RUNVM_QEMU=$tmp/qemu "$build/shim/cli/runvm" --root "$tmp/state" run --bundle "$tmp/b" tcg-profile </dev/null
python3 "$root/scripts/bench/tcg_profile.py" "$log" "$build/guest_agent/runvm-agent" \
  "$vmlinux" "$@"
