#!/usr/bin/env bash
# ctest entry "vmm_nested": one L1 QEMU/TCG boot with nested KVM runs every runvm-vmm test
# that needs KVM (tiny guests; Linux bzImage with 2 vCPUs and the broker's blk, vsock and
# console found through ACPI; vmlinux to /init and ACPI poweroff).
# usage: vmm_nested.sh RUNVM_VMM GUEST_DIR [RUNVM_BROKER|-] [--no-vmlinux]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
vmm=$1 guests=$2 broker=${3:--}
here=$root/tests/integration
kdir=$("$root/scripts/guest-kernel.sh")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmm-nested.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$here/vmm_initramfs.sh" "$tmp/l2.cpio.gz" "$kdir/modules/$(cat "$kdir/release")"
adds=(--add "$vmm:/work/runvm-vmm" --add "$guests:/work/guests"
      --add "$here/vmm_tiny_guests.sh:/work/vmm_tiny_guests.sh"
      --add "$here/vmm_nested_inner.sh:/work/inner.sh"
      --add "$kdir/vmlinuz:/work/vmlinuz" --add "$tmp/l2.cpio.gz:/work/l2.cpio.gz")
if [ "$broker" != - ]; then
  adds+=(--add "$broker:/work/runvm-broker")
  if command -v gcc >/dev/null; then # the host end of the guest's vsock connection
    gcc -static -O2 -o "$tmp/uds-recv" "$here/vmm_uds_recv.c"
    adds+=(--add "$tmp/uds-recv:/work/uds-recv")
  fi
fi
if [ "${4:-}" != "--no-vmlinux" ]; then
  adds+=(--add "$kdir/vmlinux:/work/vmlinux")
fi
exec "$root/scripts/kvm-nested.sh" --timeout 280 "${adds[@]}" -- sh /work/inner.sh
