#!/usr/bin/env bash
# e2e of issue #21 item 4 from inside a container: a FUSE CREATE for a name that is a FIFO
# on the host must be refused (ENXIO), not opened (a naive open(O_CREAT) of a FIFO waits for
# a reader for ever and takes the broker's fs thread, which serves the whole share, with it).
#
# How a real guest sends such a CREATE (Linux 6.1, fs/fuse/dir.c): open(O_CREAT) of a name
# without a valid dentry does LOOKUP and, on ENOENT, CREATE (fuse_atomic_open). A negative
# dentry is never trusted on a cache=auto share (an ENOENT answer leaves it with time 0,
# fuse_entry_unlinked resets the time of a name the guest unlinks, and fuse_dentry_revalidate
# always looks up an expired negative one), so the guest looks up first, every time; CREATE
# meets a FIFO only when the host makes one between that LOOKUP's answer and the CREATE.
# This test runs that race. Another host process (or VM) sharing the volume is played by a
# host controller that links a FIFO at the round's name a tuned delay after the guest's cue,
# moving the delay by each round's outcome:
#   early   the FIFO was there before the LOOKUP: the guest opened it itself (a guest-local
#           pipe; the guest holds the same FIFO open on fd 3, so that open does not wait);
#   late    the CREATE came first: a regular file was made (the host's link found it);
#   refused the CREATE met the FIFO: the guest's open failed with ENXIO. The attack.
# Passes only if at least one round was refused with ENXIO, every round's follow-up I/O on
# the volume answered (the fs thread is alive), the container exited 0 in time, the host's
# FIFO never had a writer or data, and nothing of the container is left.
set -euo pipefail
RUNVM=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_root
require_tools qemu-system-x86_64 python3
require_static_busybox
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
require_built "$agent" "$broker"
started=$(date +%s)
tmp=$(mktemp -d /tmp/runvm-fifo-create.XXXXXX)
root=$tmp/state
ctl_pid=
run_pid=
cleanup() {
  [ -z "$ctl_pid" ] || kill "$ctl_pid" 2>/dev/null || true
  for c in $("$RUNVM" --root "$root" list -q 2>/dev/null); do "$RUNVM" --root "$root" delete --force "$c"; done
  [ -z "$run_pid" ] || kill "$run_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
use_qemu_guest "$agent" "$broker" "$tmp/image" || exit 77

rounds=${FIFO_CREATE_ROUNDS:-400} # at most; the guest stops after $want refusals
want=3
vol=$tmp/vol
mkdir -p "$vol/race"
mkfifo -m 0666 "$vol/F" # the one FIFO inode, linked at race/X<n> by the controller
: > "$vol/go"

# The guest's half. Each round uses a new name (race/X<n>), so nothing in a round forks:
# the cue, the open of X<n> and the follow-up I/O are all the shell's own (busybox runs ls
# in the shell's process). A round takes ~30 ms on TCG, and hundreds fit in the time a few
# rounds with an `rm` would take. stderr joins stdout so that the shell's "can't create"
# line comes right before its round's line.
make_bundle "$tmp/b" "[\"sh\",\"/race.sh\",\"$rounds\",\"$want\"]" \
  "c['mounts'].append({'destination': '/vol', 'type': 'bind', 'source': '$vol', 'options': ['rbind', 'rw']})"
mkdir -p "$tmp/b/rootfs/vol"
cat > "$tmp/b/rootfs/race.sh" <<'SH'
exec 2>&1
rounds=$1 want=$2
# Hold the FIFO: an open of X<n> that found it (same node id, same guest inode) then has a
# reader and does not wait.
exec 3<>/vol/F || { echo "cannot hold /vol/F"; exit 3; }
n=0 hits=0 prev=none
while [ "$n" -lt "$rounds" ] && [ "$hits" -lt "$want" ]; do
  n=$((n + 1))
  echo "$n $prev" > /vol/go # the cue (and the last round's outcome) for the host
  if echo "round $n" > /vol/race/X$n; then
    if [ -p /vol/race/X$n ]; then prev=early; else prev=late; fi
  else
    prev=refused
    hits=$((hits + 1))
  fi
  echo "round $n: $prev"
  # The share still answers: a listing, a write and its read back. A hung fs thread stalls
  # the guest's rootfs as well (the same share), so the bound on these is the host's.
  line=
  if ls /vol > /dev/null && echo "probe $n" > /vol/probe && read -r line < /vol/probe &&
     [ "$line" = "probe $n" ]; then
    echo "round $n: io ok"
  else
    echo "round $n: io FAILED"
  fi
done
echo "$((n + 1)) end" > /vol/go # the host checks the FIFO once more and stops
echo "done: $n rounds, $hits refused"
SH

# The host's half: on each cue (the guest closing /vol/go), wait the current delay, then
# link the FIFO at race/X<n>; EEXIST means the guest's CREATE came first (late). Before
# that the FIFO must have no writer and no data (opened for reading, non-blocking: EOF).
# Niced: its wake-up latency is part of the delay.
nice -n -10 python3 - "$vol" "$tmp/ctl.log" <<'PY' &
import ctypes, os, random, stat, struct, sys, time
vol, log = sys.argv[1], open(sys.argv[2], "w", buffering=1)
fifo, go = os.path.join(vol, "F"), os.path.join(vol, "go")
libc = ctypes.CDLL(None, use_errno=True)
IN_CLOSE_WRITE = 0x8
ino = libc.inotify_init1(0)
if ino < 0 or libc.inotify_add_watch(ino, vol.encode(), IN_CLOSE_WRITE) < 0:
    sys.exit("inotify: " + os.strerror(ctypes.get_errno()))

def fifo_is_untouched():
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        return os.read(fd, 4096) == b""  # EOF: no writer holds it, nothing in it
    except BlockingIOError:
        return False  # a writer holds it open
    finally:
        os.close(fd)

delay, step, last_dir = 200e-6, 100e-6, 0
print("ready", file=log)
while True:
    buf = os.read(ino, 4096)
    t0 = time.perf_counter()
    names, at = [], 0
    while at < len(buf):
        size = struct.unpack_from("iIII", buf, at)[3]
        names.append(buf[at + 16:at + 16 + size].rstrip(b"\0").decode())
        at += 16 + size
    if "go" not in names:
        continue
    cue = open(go).read().split()
    if len(cue) < 2:
        continue
    n, prev = int(cue[0]), cue[1]
    # Later after "early", earlier after "late"; the step grows while the direction holds.
    direction = {"early": 1, "late": -1}.get(prev, 0)
    if direction and not (direction < 0 and delay == 0.0):
        step = min(step * 1.5, 1e-3) if direction == last_dir else max(step * 0.6, 10e-6)
        delay = min(max(delay + direction * step, 0.0), 0.01)
        last_dir = direction
    if not stat.S_ISFIFO(os.lstat(fifo).st_mode) or not fifo_is_untouched():
        print(f"round {n}: FIFO WRITTEN OR HELD", file=log)
    if prev == "end":
        print("end", file=log)
        break
    d = max(delay + random.uniform(-0.25, 0.25) * step, 0.0)
    while time.perf_counter() - t0 < d:
        pass
    try:
        os.link(fifo, os.path.join(vol, "race", f"X{n}"))
        what = "linked"
    except FileExistsError:
        what = "exists"
    print(f"round {n}: previous {prev}, delay {d * 1e6:.0f} us, {what}", file=log)
PY
ctl_pid=$!
for _ in $(seq 50); do grep -q ready "$tmp/ctl.log" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$tmp/ctl.log" || fail "the host controller did not start: $(cat "$tmp/ctl.log" 2>/dev/null)"

# The container, bounded from the host: 120 s to its first line (a TCG boot under load),
# then at most 15 s without a new line (a round takes ~30 ms), 180 s in all.
"$RUNVM" --root "$root" run --bundle "$tmp/b" fifo-create </dev/null >"$tmp/out" 2>"$tmp/err" &
run_pid=$!
t_start=$(date +%s)
last_size=0
last_change=$t_start
while kill -0 "$run_pid" 2>/dev/null; do
  now=$(date +%s)
  size=$(stat -c %s "$tmp/out")
  if [ "$size" != "$last_size" ]; then last_size=$size; last_change=$now; fi
  if [ "$size" -eq 0 ] && [ $((now - t_start)) -ge 120 ]; then
    cat "$tmp/err" >&2; fail "the container printed nothing within 120 s"
  fi
  if [ "$size" -gt 0 ] && [ $((now - last_change)) -ge 15 ]; then
    last=$(tail -1 "$tmp/out")
    echo "--- guest output (last lines):" >&2; tail -12 "$tmp/out" >&2; cat "$tmp/err" >&2
    echo "--- host controller (last rounds):" >&2; tail -5 "$tmp/ctl.log" >&2
    # Where the broker's threads wait (an open of a FIFO waits in wait_for_partner).
    vm_dir=$(sandbox_dir "$root" fifo-create)
    for pid in $(pgrep -f "runvm-broker .*$vm_dir/" || true); do
      for t in /proc/"$pid"/task/*; do
        echo "broker thread $(cat "$t/comm" 2>/dev/null): waits in $(cat "$t/wchan" 2>/dev/null)" >&2
      done
    done
    # Hold the FIFO open (read and write, which does not wait) until this script ends: a
    # broker blocked opening it gets its partner, so the teardown is not stuck as well.
    exec 9<>"$vol/F"
    fail "the guest stopped answering after '$last': nothing for 15 s (the broker's fs thread hung?)"
  fi
  [ $((now - t_start)) -lt 180 ] || { tail -12 "$tmp/out" "$tmp/err" >&2; fail "the container did not exit within 180 s"; }
  sleep 0.2
done
set +e; wait "$run_pid"; rc=$?; set -e
run_pid=
timeout 10 tail --pid="$ctl_pid" -f /dev/null || kill "$ctl_pid" 2>/dev/null || true
wait "$ctl_pid" 2>/dev/null || true
ctl_pid=
out=$(cat "$tmp/out")
echo "--- guest (refused rounds):" >&2; grep -B1 ': refused$' "$tmp/out" | grep -v '^--$' >&2 || true
echo "--- host controller (last rounds):" >&2; tail -8 "$tmp/ctl.log" >&2
[ "$rc" -eq 0 ] || { tail -12 "$tmp/out" "$tmp/err" >&2; fail "the container's status is $rc, not 0"; }
expect_contains "$out" "done:" "the guest's rounds ended"
grep -qx end "$tmp/ctl.log" || fail "the host controller did not follow the rounds to the end"

n=$(grep -c '^round [0-9]*: \(early\|late\|refused\)$' <<<"$out" || true)
refused=$(grep -c '^round [0-9]*: refused$' <<<"$out" || true)
early=$(grep -c '^round [0-9]*: early$' <<<"$out" || true)
late=$(grep -c '^round [0-9]*: late$' <<<"$out" || true)
io_ok=$(grep -c '^round [0-9]*: io ok$' <<<"$out" || true)
enxio=$(grep -c "can't create /vol/race/X[0-9]*: No such device or address" <<<"$out" || true)
cant=$(grep -c "can't create" <<<"$out" || true)
echo "rounds $n: refused $refused, early $early, late $late; follow-up I/O answered in $io_ok" >&2
[ "$n" -gt 0 ] || fail "no round ran"
expect_eq "$io_ok" "$n" "rounds whose follow-up I/O (ls, write, read back) answered"
expect_eq "$cant" "$enxio" "every refused create is ENXIO (No such device or address)"
expect_eq "$enxio" "$refused" "one ENXIO line per refused round"
[ "$refused" -gt 0 ] || fail "the race was not reached: no CREATE met the FIFO in $n rounds ($early early: the FIFO was there before the LOOKUP; $late late: the CREATE came first)"
! grep -q "FIFO WRITTEN OR HELD" "$tmp/ctl.log" || fail "the host's FIFO was held open or written to during a round"

# The host's FIFO: still a FIFO, nothing in it, nobody holding it.
[ -p "$vol/F" ] || fail "the host's FIFO is no longer a FIFO"
expect_eq "$(python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
try: print(len(os.read(fd, 4096)))
except BlockingIOError: print("held by a writer")' "$vol/F")" 0 "bytes in the host's FIFO"

expect_gone "$root" fifo-create "after the container exited (run deletes it)"
echo "e2e_fs_fifo_create: ok: $refused of $n rounds refused with ENXIO, every follow-up answered, in $(( $(date +%s) - started )) s"
