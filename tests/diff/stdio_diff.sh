#!/usr/bin/env bash
# A container's stdio without a terminal, runc against runvm (QEMU TCG, two VMs): the static
# probe (tests/diff/stdio_probe.c) prints, for fds 0-2, the file type, access mode, the
# /proc/self/fd link, isatty and the errno of TCGETS, TIOCGPGRP, TIOCSPGRP (tcsetpgrp, as
# tini calls it) and TIOCGWINSZ, then the bytes stdin held to EOF. It runs as the init
# (`run`), under tini as the init (`docker run --init`: tini calls tcsetpgrp on stdin and
# fails on any errno but ENOTTY; skipped without tini-static) and as an exec (`create`,
# `start`, `exec`), each with stdin, stdout and stderr pipes; both runtimes must print the
# same.
set -euo pipefail
RUNVM=$1
build=$2
probe=$3
here=$(cd "$(dirname "$0")/../e2e" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_root
require_tools qemu-system-x86_64 runc
require_static_busybox
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
require_built "$agent" "$broker" "$probe"
tmp=$(mktemp -d /tmp/runvm-stdio.XXXXXX)
root=$tmp/state
cleanup() {
  local c
  for c in $("$RUNVM" --root "$root" list -q 2>/dev/null); do "$RUNVM" --root "$root" delete --force "$c"; done
  for c in $(runc --root "$tmp/runc" list -q 2>/dev/null); do runc --root "$tmp/runc" delete --force "$c"; done
  rm -rf "$tmp"
}
trap cleanup EXIT
use_qemu_guest "$agent" "$broker" "$tmp/image" || exit 77

# piped OUT ERR CMD...: CMD with its stdin, stdout and stderr all pipes (stdin: 6 bytes).
piped() {
  local out=$1 err=$2
  shift 2
  { printf 'six b\n' | "$@" 2>&1 1>&3 3>&- | cat >"$err"; } 3>&1 | cat >"$out"
}

make_bundle "$tmp/run" '["/probe"]'
make_bundle "$tmp/exec" '["sleep","60"]'
cp "$probe" "$tmp/run/rootfs/probe"
cp "$probe" "$tmp/exec/rootfs/probe"
cases="run exec"
tini=$(command -v tini-static || true)
if [ -n "$tini" ]; then
  make_bundle "$tmp/tini" '["/tini","--","/probe"]'
  cp "$probe" "$tmp/tini/rootfs/probe"
  cp "$tini" "$tmp/tini/rootfs/tini"
  cases="run tini exec"
else
  echo "tini-static missing: no --init case"
fi

for rt in runc runvm; do
  if [ $rt = runc ]; then cmd=(runc --root "$tmp/runc"); else cmd=("$RUNVM" --root "$root"); fi
  for b in run tini; do
    [ -d "$tmp/$b" ] || continue
    piped "$tmp/$b.$rt.out" "$tmp/$b.$rt.err" "${cmd[@]}" run --bundle "$tmp/$b" "$b-$rt" ||
      { cat "$tmp/$b.$rt.err" >&2; fail "$rt run of $b"; }
  done
  "${cmd[@]}" create --bundle "$tmp/exec" "e-$rt" </dev/null >/dev/null 2>"$tmp/create.$rt.err" ||
    { cat "$tmp/create.$rt.err" >&2; fail "$rt create"; }
  "${cmd[@]}" start "e-$rt"
  piped "$tmp/exec.$rt.out" "$tmp/exec.$rt.err" "${cmd[@]}" exec "e-$rt" /probe ||
    { cat "$tmp/exec.$rt.err" >&2; fail "$rt exec of the probe"; }
  "${cmd[@]}" delete --force "e-$rt"
done

for what in $cases; do
  echo "== $what: runc"
  cat "$tmp/$what.runc.out"
  echo "== $what: runvm"
  cat "$tmp/$what.runvm.out"
  expect_contains "$(cat "$tmp/$what.runc.out")" "fd0 type=fifo" "$what: runc gives a pipe (the harness)"
  expect_contains "$(cat "$tmp/$what.runc.out")" "stdin: 6 bytes, then EOF" "$what: runc stdin"
  expect_eq "$(cat "$tmp/$what.runvm.out")" "$(cat "$tmp/$what.runc.out")" "$what: runvm and runc agree"
  expect_eq "$(cat "$tmp/$what.runvm.err")" "" "$what: runvm stderr"
done
echo "stdio: runc and runvm agree"
