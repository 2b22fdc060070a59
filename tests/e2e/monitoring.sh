#!/usr/bin/env bash
# e2e through QEMU with TCG, one VM: what monitoring tools read (docs/cli.md, "ps, events,
# update"). `runvm ps` prints the guest's processes in ps -ef's columns with their commands;
# `ps --format json` lists host pids that exist (monitor first, then its broker and
# hypervisor), so `docker top`'s filter of the host's ps keeps rows; `events --stats` and
# `events --interval` give the guest cgroup's memory and pids; `update` with runc's flags
# (--memory 64m --pids-limit 10) shows in the next stats; bad values are refused naming
# the flag.
set -euo pipefail
RUNVM=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_root
require_tools qemu-system-x86_64
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
require_built "$agent" "$broker"
tmp=$(mktemp -d /tmp/runvm-e2e-mon.XXXXXX)
trap 'for c in $("$RUNVM" --root "$root" list -q 2>/dev/null); do "$RUNVM" --root "$root" delete --force "$c"; done; rm -rf "$tmp"' EXIT
root=$tmp/state
use_qemu_guest "$agent" "$broker" "$tmp/image" || exit 77

rv() { "$RUNVM" --root "$root" "$@"; }
# json_get EXPR: evaluates a Python expression over the JSON on stdin (as `j`).
json_get() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
# expect_refused WHAT NEEDLE CMD...: CMD fails and its stderr names NEEDLE.
expect_refused() {
  local what=$1 needle=$2 rc=0
  shift 2
  "$@" >"$tmp/refused.out" 2>"$tmp/refused.err" || rc=$?
  [ "$rc" -ne 0 ] || fail "$what: accepted"
  expect_contains "$(cat "$tmp/refused.err")" "$needle" "$what: the error"
}

make_bundle "$tmp/b" '["sh","-c","sleep 1001 & sleep 1002 & wait"]'
rv create --bundle "$tmp/b" --pid-file "$tmp/pid" m1 </dev/null >"$tmp/create.out" 2>&1 ||
  { cat "$tmp/create.out" >&2; fail "create"; }
monitor=$(cat "$tmp/pid")
rv start m1
# The shell's children show up once the guest has run them.
for _ in $(seq 100); do
  rv ps m1 >"$tmp/ps" && grep -q ':[0-9][0-9] sleep 1002$' "$tmp/ps" && break
  sleep 0.2
done
cat "$tmp/ps" >&2

# ps: procps' ps -ef header, the guest's commands in CMD, root by name from the image's passwd.
expect_eq "$(head -1 "$tmp/ps")" "UID          PID    PPID  C STIME TTY          TIME CMD" "ps header"
grep -q ':[0-9][0-9] sleep 1001$' "$tmp/ps" || fail "ps: no row with CMD 'sleep 1001'"
expect_contains "$(cat "$tmp/ps")" "sh -c sleep 1001 & sleep 1002 & wait" "ps: the init's command"
[ "$(tail -n +2 "$tmp/ps" | wc -l)" -ge 3 ] || fail "ps: fewer than 3 processes"
tail -n +2 "$tmp/ps" | while read -r uid _; do expect_eq "$uid" root "ps: UID column"; done
expect_eq "$(rv ps m1 -e | head -1)" "    PID TTY          TIME CMD" "ps -e header"
expect_refused "ps aux" "ps-args" rv ps m1 aux

# ps --format json: host pids, the monitor first, the hypervisor among them.
rv ps --format json m1 >"$tmp/pids"
cat "$tmp/pids" >&2
expect_eq "$(json_get 'j[0]' <"$tmp/pids")" "$monitor" "ps json: the monitor first"
found_qemu=no
for p in $(json_get '" ".join(map(str, j))' <"$tmp/pids"); do
  [ -d "/proc/$p" ] || fail "ps json: pid $p is not a host process"
  case "$(cat "/proc/$p/comm")" in qemu*) found_qemu=yes;; esac
done
expect_eq "$found_qemu" yes "ps json: the hypervisor's pid"
# docker top: the host's ps -ef, rows kept by the PID column.
rows=$(ps -ef | python3 -c "
import json, sys
pids = set(json.load(open('$tmp/pids')))
lines = sys.stdin.read().splitlines()
col = lines[0].split().index('PID')
print(sum(1 for l in lines[1:] if int(l.split()[col]) in pids))")
[ "$rows" -ge 2 ] || fail "docker top's filter kept $rows host rows"

# events --stats: the guest cgroup's memory and pids, not the host's.
rv events --stats m1 >"$tmp/stats"
cat "$tmp/stats" >&2
expect_eq "$(json_get 'j["type"], j["id"]' <"$tmp/stats")" "stats m1" "events: type and id"
expect_eq "$(json_get 'j["data"]["memory"]["usage"]["usage"] > 0' <"$tmp/stats")" True "memory usage > 0"
expect_eq "$(json_get 'j["data"]["pids"]["current"] >= 1' <"$tmp/stats")" True "pids.current >= 1"
# No memory.max yet: the limit is the VM's memory, well under the host's.
expect_eq "$(json_get '0 < j["data"]["memory"]["usage"]["limit"] < (1 << 40)' <"$tmp/stats")" True "memory limit: the VM's"

# events --interval: Go durations, a line per interval.
timeout 3 "$RUNVM" --root "$root" events --interval 1s m1 >"$tmp/interval" || true
[ "$(grep -c '"type":"stats"' "$tmp/interval")" -ge 1 ] || fail "events --interval 1s printed no stats"
expect_refused "events --interval junk" "--interval" rv events --interval junk m1
expect_refused "events --interval 5" "--interval" rv events --interval 5 m1
expect_refused "events --interval 0s" "--interval" rv events --interval 0s m1

# update with runc's flags, then the stats show the new limits.
rv update --memory 64m --pids-limit 10 m1
rv events --stats m1 >"$tmp/stats2"
cat "$tmp/stats2" >&2
expect_eq "$(json_get 'j["data"]["memory"]["usage"]["limit"]' <"$tmp/stats2")" 67108864 "memory limit after update"
expect_eq "$(json_get 'j["data"]["pids"]["limit"]' <"$tmp/stats2")" 10 "pids limit after update"
expect_refused "update --memory lots" "--memory" rv update --memory lots m1
expect_refused "update --pids-limit ten" "--pids-limit" rv update --pids-limit ten m1
expect_refused "update --cpu-period -1" "--cpu-period" rv update --cpu-period -1 m1

rv kill m1 KILL
for _ in $(seq 100); do kill -0 "$monitor" 2>/dev/null || break; sleep 0.1; done
rv delete --force m1
expect_gone "$root" m1 "after delete"
echo "monitoring: ok"
