#!/usr/bin/env bash
# Builds the L2 test initramfs: static busybox as /init's shell; /init writes the boot
# timer (devmem on its MMIO page), prints a marker on the console and reboots (i8042).
# usage: vmm_initramfs.sh OUT.cpio.gz [EXTRA_INIT_LINES_FILE]
set -euo pipefail
out=$1
extra=${2:-}
bb=$(command -v busybox)
file -L "$bb" 2>/dev/null | grep -q 'statically linked' || bb=/bin/busybox
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmm-initramfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,dev,proc,sys}
cp "$bb" "$tmp/bin/busybox"
cat > "$tmp/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox mount -t proc proc /proc
/bin/busybox devmem 0xd0000000 8 123
echo "runvm-init: reached /init"
INIT
if [ -n "$extra" ]; then cat "$extra" >> "$tmp/init"; fi
echo '/bin/busybox reboot -f' >> "$tmp/init"
chmod +x "$tmp/init"
(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
