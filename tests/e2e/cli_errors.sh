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
