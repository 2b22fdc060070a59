#!/usr/bin/env bash
# e2e without a guest: bad input gives clear errors and leaves nothing behind.
set -euo pipefail
RUNVM=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_root "state under /run"
require_tools busybox
tmp=$(mktemp -d /tmp/runvm-e2e.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/state
make_bundle "$tmp/b" '["true"]'

# Missing kernel: named in the error, no state, no sandbox.
set +e
out=$(RUNVM_KERNEL=$tmp/no-kernel RUNVM_INITRD=$tmp/no-initrd "$RUNVM" --root "$root" \
      create --bundle "$tmp/b" k1 2>&1)
rc=$?
set -e
[ $rc -ne 0 ] || fail "create with a missing kernel succeeded"
expect_contains "$out" "no-kernel" "missing kernel error"
set +e; "$RUNVM" --root "$root" state k1 >/dev/null 2>&1; rc=$?; set -e
[ $rc -ne 0 ] || fail "a failed create left state behind"
expect_gone "$root" k1 "missing kernel"

# io.runvm.* annotations: refused unless config.yaml enables the key; a path only beneath
# annotations.paths, never through a symlink out; each refusal names the key and leaves nothing.
refused_create() { # NAME EXPECTED-TEXT [CONFIG]
  local id=$1 want=$2 config=${3:-/nonexistent}
  set +e
  out=$(RUNVM_CONFIG=$config "$RUNVM" --root "$root" create --bundle "$tmp/$id" "$id" 2>&1)
  rc=$?
  set -e
  [ $rc -ne 0 ] || fail "$id: create succeeded"
  expect_contains "$out" "$want" "$id"
  expect_gone "$root" "$id" "$id"
  if pgrep -f -- "--root $root" >/dev/null; then fail "$id: a process of the refused create runs"; fi
}
mkdir -p "$tmp/images"
echo not-a-kernel >"$tmp/images/vmlinuz"
ln -s /etc/shadow "$tmp/images/shadow"
printf 'annotations:\n  enable: [io.runvm.initrd, io.runvm.vcpus]\n  paths: [%s]\nmax_vcpus: 2\n' \
  "$tmp/images" >"$tmp/config.yaml"
annotated() { make_bundle "$tmp/$1" '["true"]' "c['annotations']={'$2': '$3'}"; }
annotated a1 io.runvm.initrd /etc/shadow
refused_create a1 "annotation io.runvm.initrd: not enabled"
annotated a2 io.runvm.initrd /etc/shadow
refused_create a2 "annotation io.runvm.initrd: /etc/shadow is outside the allowed paths" "$tmp/config.yaml"
annotated a3 io.runvm.initrd "$tmp/images/shadow"
refused_create a3 "annotation io.runvm.initrd: $tmp/images/shadow leads out of the allowed directory" "$tmp/config.yaml"
annotated a4 io.runvm.initrd "$tmp/images/../../../etc/shadow"
refused_create a4 "leads out of the allowed directory $tmp/images" "$tmp/config.yaml"
annotated a5 io.runvm.vcpus 3
refused_create a5 "annotation io.runvm.vcpus: 3 is above the ceiling of 2 (max_vcpus)" "$tmp/config.yaml"
annotated a6 io.runvm.kernel "$tmp/images/vmlinuz"
refused_create a6 "annotation io.runvm.kernel: not enabled" "$tmp/config.yaml"
annotated a7 io.runvm.cpus 2
refused_create a7 "annotation io.runvm.cpus: unknown key" "$tmp/config.yaml"

# Bad ids, unknown containers, delete --force of nothing.
set +e
out=$("$RUNVM" --root "$root" create --bundle "$tmp/b" 'bad/id' 2>&1); rc=$?
set -e
[ $rc -ne 0 ] || fail "bad id accepted"
expect_contains "$out" "invalid container id" "bad id"
set +e; out=$("$RUNVM" --root "$root" kill nope 2>&1); rc=$?; set -e
[ $rc -ne 0 ] || fail "kill of a missing container succeeded"
expect_contains "$out" "does not exist" "kill missing"
"$RUNVM" --root "$root" delete --force nope
expect_eq "$("$RUNVM" --root "$root" list -q)" "" "list after failures"
"$RUNVM" features | python3 -c 'import json,sys; f=json.load(sys.stdin); assert f["ociVersionMax"]=="1.2.0"'
echo "cli errors: ok"
