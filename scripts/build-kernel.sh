#!/usr/bin/env bash
# Builds runvm's minimal guest kernel from Debian's linux-source-6.1: tinyconfig plus the
# fragments in kernel_config/, everything built in, no modules. Output (cache, idempotent):
# $out/bzImage, $out/vmlinux, $out/release, $out/config, $out/build-seconds.
# usage: scripts/build-kernel.sh [--current] [OUT_DIR]   (default /var/cache/runvm/kernel-minimal)
#   --current: build nothing; exit 0 when OUT_DIR holds a kernel of today's fragments, else 1
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
check_only=0
if [ "${1:-}" = --current ]; then check_only=1; shift; fi
out=${1:-${RUNVM_MINIMAL_KERNEL_DIR:-/var/cache/runvm/kernel-minimal}}
fragments=("$root"/kernel_config/*.config)
stamp=$(cat "${fragments[@]}" | sha256sum | cut -c1-16)
if [ -s "$out/bzImage" ] && [ "$(cat "$out/fragments.sha" 2>/dev/null)" = "$stamp" ]; then
  [ $check_only = 1 ] || echo "$out"
  exit 0
fi
[ $check_only = 0 ] || exit 1
tarball=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)
if [ -z "$tarball" ]; then
  echo "build-kernel: /usr/src/linux-source-6.1.tar.xz missing (apt-get install linux-source-6.1; scripts/setup.sh does)" >&2
  exit 1
fi
for tool in make gcc flex bison bc lz4; do  # lz4: kernel_config/boot.config
  command -v $tool >/dev/null || { echo "build-kernel: $tool missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
work=${RUNVM_KERNEL_WORK:-/var/tmp/runvm-kernel-build}
mkdir -p "$work"
src=$work/linux-source-6.1
if [ ! -f "$src/Makefile" ]; then
  tar -C "$work" -xf "$tarball"
fi
start=$(date +%s)
# Reproducible build identity.
export KBUILD_BUILD_USER=runvm KBUILD_BUILD_HOST=runvm KBUILD_BUILD_TIMESTAMP="1970-01-01"
make -C "$src" -s tinyconfig
"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "${fragments[@]}" >/dev/null
make -C "$src" -s olddefconfig
# A fragment line the kernel dropped (a missing dependency) would silently change the guest.
missing=0
while read -r line; do
  case "$line" in CONFIG_*=y) grep -qx "$line" "$src/.config" || { echo "build-kernel: $line did not stick" >&2; missing=1; } ;; esac
done < <(cat "${fragments[@]}")
[ $missing -eq 0 ] || echo "build-kernel: some options did not stick (see above); building anyway" >&2
make -C "$src" -s -j"$(nproc)" bzImage
mkdir -p "$out.new"
cp "$src/arch/x86/boot/bzImage" "$out.new/bzImage"
cp "$src/vmlinux" "$out.new/vmlinux"
cp "$src/.config" "$out.new/config"
make -C "$src" -s kernelrelease > "$out.new/release"
echo "$stamp" > "$out.new/fragments.sha"
echo $(( $(date +%s) - start )) > "$out.new/build-seconds"
rm -rf "$out"
mv "$out.new" "$out"
echo "$out"
