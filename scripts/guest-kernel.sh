#!/usr/bin/env bash
# Unpacks Debian's cloud kernel (bzImage + modules) into a cache directory without
# installing it on the host, and prints the directory. Idempotent: a second call only
# prints. Layout: $dir/vmlinuz, $dir/vmlinux (ELF, from the bzImage's LZ4 payload),
# $dir/modules/<release>/..., $dir/release.
# usage: scripts/guest-kernel.sh [CACHE_DIR]   (default /var/cache/runvm/kernel)
set -euo pipefail
dir=${1:-${RUNVM_KERNEL_CACHE:-/var/cache/runvm/kernel}}
if [ -s "$dir/vmlinuz" ] && [ -s "$dir/vmlinux" ] && [ -s "$dir/release" ]; then
  echo "$dir"
  exit 0
fi
pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
if [ -z "$pkg" ]; then
  apt-get update -qq >&2
  pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
fi
[ -n "$pkg" ] || { echo "guest-kernel: cannot resolve linux-image-cloud-amd64" >&2; exit 1; }
for tool in lz4 python3; do
  command -v $tool >/dev/null || { echo "guest-kernel: $tool missing (scripts/setup.sh installs it)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/runvm-kernel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q "$pkg" >&2)
dpkg-deb -x "$tmp"/*.deb "$tmp/root"
release=${pkg#linux-image-}
mkdir -p "$dir.new"
cp "$tmp/root/boot/vmlinuz-$release" "$dir.new/vmlinuz"
mkdir -p "$dir.new/modules"
cp -a "$tmp/root/lib/modules/$release" "$dir.new/modules/"
echo "$release" > "$dir.new/release"

# The bzImage's payload is LZ4 (legacy frame): setup_sects at 0x1f1, payload_offset at
# 0x248 and payload_length at 0x24c, relative to the protected-mode code.
python3 - "$dir.new/vmlinuz" "$tmp/payload.lz4" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
setup_sects = d[0x1f1] or 4
off, length = struct.unpack_from('<II', d, 0x248)
start = (setup_sects + 1) * 512 + off
open(sys.argv[2], 'wb').write(d[start:start + length])
PY
lz4 -dc "$tmp/payload.lz4" > "$dir.new/vmlinux" 2>/dev/null || true
head -c 4 "$dir.new/vmlinux" | grep -q 'ELF' || { echo "guest-kernel: vmlinux extraction failed" >&2; exit 1; }
rm -rf "$dir"
mv "$dir.new" "$dir"
echo "$dir"
