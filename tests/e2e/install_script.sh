#!/usr/bin/env bash
# scripts/install.sh into a staging root (--destdir).
# usage: install_script.sh BUILD_DIR cloud|minimal
#   cloud: the binaries, the default config and a cloud-kernel image; a bad --kernel is
#     refused naming it, leaving nothing.
#   minimal: the default install takes the minimal kernel; skipped where that kernel is not
#     built from today's kernel_config/ (it is seeded into the staging root, so the install
#     does not spend minutes building it again).
set -euo pipefail
build=$1
part=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_tools cpio
require_built "$build/shim/cli/runvm" "$build/broker/runvm-broker" "$build/guest_agent/runvm-agent" \
  "$build/shim/containerd/containerd-shim-runvm-v2"
tmp=$(mktemp -d /tmp/runvm-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
install_into() { "$repo/scripts/install.sh" --build "$build" --destdir "$1" "${@:2}" >"$tmp/out" 2>&1; }

minimal=${RUNVM_MINIMAL_KERNEL_DIR:-/var/cache/runvm/kernel-minimal}
if [ "$part" = minimal ]; then
  "$repo/scripts/build-kernel.sh" --current "$minimal" ||
    skip "no minimal kernel of today's kernel_config/ in $minimal (scripts/build-kernel.sh)"
  mkdir -p "$tmp/m/var/cache/runvm"
  cp -r "$minimal" "$tmp/m/var/cache/runvm/kernel-minimal"
  install_into "$tmp/m" || fail "install (minimal kernel): $(cat "$tmp/out")"
  image=$tmp/m/var/cache/runvm/image
  ! grep -q '^module ' "$image/manifest" || fail "the minimal kernel's image carries modules"
  expect_eq "$(awk '$1=="kernel_release"{print $2}' "$image/manifest")" "$(cat "$minimal/release")" \
    "the installed image's kernel"
  cmp -s "$image/vmlinuz" "$minimal/bzImage" || fail "the installed image's vmlinuz is not the minimal bzImage"
  expect_contains "$(cat "$tmp/out")" "(minimal kernel " "the install names the kernel"
  echo "PASS: install with the minimal kernel (the default)"
  exit 0
fi

set +e; install_into "$tmp/bad" --kernel tiny; rc=$?; set -e
expect_eq "$rc" 2 "--kernel tiny: status"
expect_contains "$(cat "$tmp/out")" "--kernel wants minimal or cloud, not 'tiny'" "--kernel tiny: error"
[ ! -e "$tmp/bad" ] || fail "a refused install left $tmp/bad behind"

install_into "$tmp/c" --kernel cloud || fail "install --kernel cloud: $(cat "$tmp/out")"
for b in runvm containerd-shim-runvm-v2 runvm-broker; do
  [ -x "$tmp/c/usr/local/bin/$b" ] || fail "install did not put $b in usr/local/bin"
done
expect_contains "$(cat "$tmp/c/etc/runvm/config.yaml")" "hypervisor: auto" "the default config"
grep -q '^module ' "$tmp/c/var/cache/runvm/image/manifest" || fail "--kernel cloud: no modules in the image"
expect_contains "$(cat "$tmp/out")" "(cloud kernel " "--kernel cloud: the install names the kernel"
echo "PASS: install --kernel cloud"
