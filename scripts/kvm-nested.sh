#!/usr/bin/env bash
# Runs a command inside an L1 QEMU/TCG guest (-cpu max: AMD SVM with nested paging) where
# Debian's cloud kernel with kvm-amd gives a working /dev/kvm. The L1 image is an
# initramfs of static busybox, the KVM modules and the files given with --add.
# The command's exit status comes back as this script's (77 when L1 has no /dev/kvm).
# usage: scripts/kvm-nested.sh [--mem MIB] [--timeout S] [--add SRC:DEST]... -- CMD...
#   DEST is a path inside L1; CMD runs under /bin/sh there with /work as the cwd.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mem=1536
timeout_s=280
adds=()
while [ $# -gt 0 ]; do
  case $1 in
    --mem) mem=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --add) adds+=("$2"); shift 2 ;;
    --) shift; break ;;
    *) echo "kvm-nested: unknown option $1" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--add SRC:DEST]... -- CMD..." >&2; exit 2; }
for tool in qemu-system-x86_64 cpio; do
  command -v $tool >/dev/null || { echo "kvm-nested: $tool missing: skipped" >&2; exit 77; }
done
kdir=$("$root/scripts/guest-kernel.sh")
release=$(cat "$kdir/release")
mods="$kdir/modules/$release/kernel"
busybox=/bin/busybox
file -L "$busybox" | grep -q 'statically linked' || { echo "kvm-nested: need busybox-static" >&2; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvm-nested.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
img=$tmp/root
mkdir -p "$img"/{bin,dev,proc,sys,tmp,work,lib/modules}
cp "$busybox" "$img/bin/busybox"
for m in virt/lib/irqbypass.ko arch/x86/kvm/kvm.ko arch/x86/kvm/kvm-amd.ko; do
  cp "$mods/$m" "$img/lib/modules/"
done
for a in "${adds[@]}"; do
  src=${a%%:*}; dest=${a#*:}
  mkdir -p "$img/$(dirname "$dest")"
  cp -a "$src" "$img/$dest"
  # A dynamically linked program brings its shared libraries and loader along.
  if [ -f "$src" ] && file -L "$src" | grep -q 'dynamically linked'; then
    for lib in $(ldd "$src" | grep -o '/[^ ]*'); do
      mkdir -p "$img/$(dirname "$lib")"
      [ -e "$img/$lib" ] || cp -L "$lib" "$img/$lib"
    done
  fi
done
printf '%s\n' "$*" > "$img/work/command"
cat > "$img/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t devtmpfs dev /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmp /tmp
for m in irqbypass kvm kvm-amd; do insmod /lib/modules/$m.ko || echo "kvm-nested: insmod $m failed"; done
cd /work
if [ -c /dev/kvm ]; then
  sh /work/command
  rc=$?
else
  echo "kvm-nested: no /dev/kvm in L1"
  rc=77
fi
echo "KVM-NESTED-EXIT=$rc"
poweroff -f
INIT
chmod +x "$img/init"
# Uncompressed: TCG would spend seconds inflating it.
(cd "$img" && find . | cpio -o -H newc --quiet) > "$tmp/l1.cpio"
log=$tmp/l1.log
start=$(date +%s.%N)
timeout "$timeout_s" qemu-system-x86_64 -accel tcg -cpu max -machine q35 -m "$mem" \
  -nographic -no-reboot -kernel "$kdir/vmlinuz" -initrd "$tmp/l1.cpio" \
  -append 'console=ttyS0 quiet panic=-1' < /dev/null | tee "$log" | tr -d '\r' || true
end=$(date +%s.%N)
echo "kvm-nested: L1 run took $(awk "BEGIN{printf \"%.1f\", $end - $start}") s"
rc=$(tr -d '\r' < "$log" | sed -n 's/^KVM-NESTED-EXIT=\([0-9]*\)$/\1/p' | tail -1)
if [ -z "$rc" ]; then
  echo "kvm-nested: L1 ended without an exit marker (timeout ${timeout_s}s?)" >&2
  exit 1
fi
exit "$rc"
