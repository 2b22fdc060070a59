#!/usr/bin/env bash
# Benchmark: QEMU TCG's translation cache (`-accel tcg,tb-size=MiB`) against the memory it
# costs. A busy container (a shell loop that execs busybox applets, so the guest keeps
# mapping fresh code) runs for DURATION s under each tb-size; per run: loop iterations done
# (throughput, as a ratio to QEMU 7.2's default of 1024 MiB in the same run), QEMU's
# anonymous RSS at the end, and the cold start of `true`. Rounds are interleaved so other
# load on the machine hits every size alike.
# usage: scripts/bench/tcg-tb-size.sh [SIZES]   (root, after a build; DURATION=40 ROUNDS=2;
#   SIZES default "1024 256 128 64 32"; NO_DOC=1 prints only, else rewrites the table in
#   docs/benchmarks.md)
set -euo pipefail
# Every container boots its own VM here unless asked (template: auto would start the later
# ones in pooled VMs booted in the background, docs/design/fast-start.md).
export RUNVM_TEMPLATE=${RUNVM_TEMPLATE:-off}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
sizes=${1:-1024 256 128 64 32}
duration=${DURATION:-40}
rounds=${ROUNDS:-2}
[ "$(id -u)" = 0 ] || { echo "tcg-tb-size: needs root" >&2; exit 77; }
tmp=$(mktemp -d /tmp/runvm-tb-bench.XXXXXX)
trap 'for s in "$tmp"/state/*/; do [ -d "$s" ] && "$build/shim/cli/runvm" --root "$tmp/state" delete -f "$(basename "$s")" >/dev/null 2>&1; done; rm -rf "$tmp"' EXIT
image=$("$root/scripts/build-guest-image.sh" --agent "$build/guest_agent/runvm-agent" \
  --out "$tmp/image")
mkdir -p "$tmp/b/rootfs/bin"
cp /bin/busybox "$tmp/b/rootfs/bin/"
for a in sh true md5sum ls date sleep seq; do ln -s busybox "$tmp/b/rootfs/bin/$a"; done
(cd "$tmp/b" && "$build/shim/cli/runvm" spec)
loop="end=\$((\$(date +%s) + $duration)); n=0; while [ \$(date +%s) -lt \$end ]; do md5sum /bin/busybox >/dev/null; ls / >/dev/null; n=\$((n+1)); done; echo \$n"
python3 - "$tmp/b/config.json" "$loop" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["process"]["terminal"] = False; c["process"]["args"] = ["sh", "-c", sys.argv[2]]
json.dump(c, open(p, "w"))
PY
export RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio RUNVM_HYPERVISOR=qemu
export RUNVM_BROKER=$build/broker/runvm-broker
# A QEMU that takes tb-size from the environment: the runtime's own -accel is rewritten.
cat > "$tmp/qemu" <<'SH'
#!/bin/sh
for a in "$@"; do
  shift
  case $a in tcg|tcg,*) a="tcg,tb-size=$TB_SIZE_MIB";; esac
  set -- "$@" "$a"
done
exec qemu-system-x86_64 "$@"
SH
chmod +x "$tmp/qemu"
export RUNVM_QEMU=$tmp/qemu
runvm() { "$build/shim/cli/runvm" --root "$tmp/state" "$@"; }
one_run() { # $1 size $2 name: prints "iterations rss_anon_kib start_ms"
  local size=$1 name=$2 qpid="" rss run s e=""
  export TB_SIZE_MIB=$size
  s=$(date +%s%N)
  runvm run --bundle "$tmp/b" "$name" >"$tmp/out-$name" 2>"$tmp/err-$name" </dev/null &
  run=$!
  # Start time: until the loop's first `date` ran in the guest (its QEMU exists by then).
  for _ in $(seq 600); do
    qpid=$(pgrep -f -n "tb-size=$size" || true)
    [ -n "$qpid" ] && grep -q running "$tmp/state/$name/state.json" 2>/dev/null && break
    sleep 0.05
  done
  e=$(date +%s%N)
  [ -n "$qpid" ] || { echo "no QEMU for $name" >&2; cat "$tmp/err-$name" >&2; return 1; }
  sleep "$((duration - 3))"
  rss=$(awk '/^RssAnon/ {print int($2 / 1024)}' "/proc/$qpid/status")
  wait "$run" || { echo "run $name failed" >&2; cat "$tmp/err-$name" >&2; return 1; }
  echo "$(cat "$tmp/out-$name") $rss $(((e - s) / 1000000))"
}
echo "tb-size MiB | round | iterations | QEMU RssAnon MiB | create ms"
declare -A iters rsses starts
for r in $(seq "$rounds"); do
  for size in $sizes; do
    out=$(one_run "$size" "tb$size-$r")
    echo "$size | $r | $out"
    read -r it rss st <<<"$out"
    iters[$size]="${iters[$size]:-} $it"; rsses[$size]="${rsses[$size]:-} $rss"
    starts[$size]="${starts[$size]:-} $st"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
base=$(echo "${iters[1024]:-}" | median)
table=$tmp/table.md
{
  echo "### TCG translation cache: a busy container for ${duration} s, median of $rounds rounds, interleaved"
  echo
  echo "| tb-size MiB | loop iterations | vs 1024 MiB | QEMU RssAnon MiB | create ms |"
  echo "|---:|---:|---:|---:|---:|"
  for size in $sizes; do
    it=$(echo "${iters[$size]}" | median)
    ratio=$([ -n "$base" ] && awk -v a="$it" -v b="$base" 'BEGIN {printf "%.2f", a / b}' || echo -)
    echo "| $size | $it | $ratio | $(echo "${rsses[$size]}" | median) | $(echo "${starts[$size]}" | median) |"
  done
} >"$table"
cat "$table"
if [ -z "${NO_DOC:-}" ]; then
  python3 - "$root/docs/benchmarks.md" "$table" "$(date +%F)" "$(cat /proc/loadavg | cut -d' ' -f1-3)" <<'PY'
import sys
doc, table, day, load = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3], sys.argv[4]
text = open(doc).read()
start, end = "<!-- tb-size-bench:start -->", "<!-- tb-size-bench:end -->"
body = "%s\n`scripts/bench/tcg-tb-size.sh` on %s (load %s, 2 cores, QEMU 7.2 TCG):\n\n%s%s" % (
    start, day, load, table, end)
if start in text:
    a = text.index(start); b = text.index(end) + len(end)
    text = text[:a] + body + text[b:]
else:
    text += "\n## QEMU TCG translation cache\n\n" + body + "\n"
open(doc, "w").write(text)
PY
fi
