#!/usr/bin/env bash
# e2e: the guest kernel is a container's kernel. tests/e2e/kernel_features.c asks the kernel
# for what container programs commonly use (SysV IPC, file locks, inotify, AIO, io_uring,
# madvise, membarrier, rseq, AF_PACKET, ...); run by runc on this host and in a runvm guest
# (one boot), the two lists must be the same, line for line.
# usage: kernel_features.sh RUNVM BUILD_DIR [cloud|minimal]
#   cloud: Debian's cloud kernel (the default guest image); minimal: scripts/build-kernel.sh's
#   kernel, skipped where it is not built ($RUNVM_MINIMAL_KERNEL_DIR, default
#   /var/cache/runvm/kernel-minimal).
set -euo pipefail
RUNVM=$1
build=$2
kernel=${3:-cloud}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_root
require_tools qemu-system-x86_64 runc gcc
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
require_built "$agent" "$broker"
if [ "$kernel" = minimal ]; then
  minimal=${RUNVM_MINIMAL_KERNEL_DIR:-/var/cache/runvm/kernel-minimal}
  [ -s "$minimal/bzImage" ] || skip "the minimal kernel is not built ($minimal; scripts/build-kernel.sh)"
fi
tmp=$(mktemp -d /tmp/runvm-kfeatures.XXXXXX)
root=$tmp/state
cleanup() {
  "$RUNVM" --root "$root" delete --force k1 >/dev/null 2>&1 || true
  runc --root "$tmp/runc" delete --force k1 >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
gcc -static -O1 -Wall -Werror -o "$tmp/probe" "$here/kernel_features.c" 2>"$tmp/gcc.err" ||
  skip "no static C library to build the probe ($(head -1 "$tmp/gcc.err"))"
RUNVM_E2E_KERNEL=$kernel use_qemu_guest "$agent" "$broker" "$tmp/image" || exit 1
export RUNVM_TEMPLATE=off # one VM of its own: the kernel is what is tested
make_bundle "$tmp/b" '["/probe"]'
cp "$tmp/probe" "$tmp/b/rootfs/probe"

runc --root "$tmp/runc" run --bundle "$tmp/b" k1 </dev/null >"$tmp/runc.out"
"$RUNVM" --root "$root" run --keep --bundle "$tmp/b" k1 </dev/null >"$tmp/runvm.out"
release=$("$RUNVM" --root "$root" state k1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["runvm"]["guest_kernel"])')
"$RUNVM" --root "$root" delete k1
expect_eq "$release" "$(awk '$1=="kernel_release"{print $2}' "$tmp/image/manifest")" "the guest ran the $kernel kernel"
[ "$(grep -c ' ' "$tmp/runc.out")" -ge 30 ] || fail "the probe printed too little under runc: $(cat "$tmp/runc.out")"
if ! diff -u "$tmp/runc.out" "$tmp/runvm.out" >"$tmp/diff"; then
  echo "- runc (host $(uname -r)), + runvm guest ($release):" >&2
  grep -E '^[-+][a-z]' "$tmp/diff" >&2
  fail "the $kernel guest kernel lacks what runc's host gives a container (above)"
fi
echo "PASS: $(wc -l <"$tmp/runc.out") kernel features as under runc, $kernel kernel $release"
