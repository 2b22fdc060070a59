#!/usr/bin/env bash
# Runs broker_bench (blk and vsock through the broker vs raw pread / socketpair) and
# rewrites the Broker section of docs/benchmarks.md between its markers.
# usage: scripts/bench/broker.sh [IMAGE_MB] [ROUNDS]   env: BUILD_DIR (default build), NO_DOC=1
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
cmake --build "$build" --target broker_bench >&2
table=$("$build/broker/broker_bench" "${1:-256}" "${2:-3}")
echo "$table"
[ -n "${NO_DOC:-}" ] && exit 0
doc=$root/docs/benchmarks.md
header="Driven in-process by broker/testing (memfd guest RAM, real vhost-user socket and
eventfds, no guest); $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),
load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; $(date +%F)"
section=$(printf '%s\n\n%s\n' "$header" "$table")
python3 - "$doc" "$section" <<'PY'
import sys
path, section = sys.argv[1], sys.argv[2]
begin, end = '<!-- broker-bench:start -->', '<!-- broker-bench:end -->'
text = open(path).read()
if begin in text:
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    text = head + begin + '\n' + section + '\n' + end + tail
else:
    text = text.rstrip('\n') + '\n\n## Broker\n\n' + \
        '`scripts/bench/broker.sh` runs broker_bench: blk sequential read (128 KiB requests) and\n' + \
        '4 KiB random read through runvm-broker\'s blk device vs pread on the same (page-cached)\n' + \
        'file, and a host -> guest vsock stream vs a Unix socket pair. Goal: >= 80% of the raw\n' + \
        'baseline for sequential I/O.\n\n' + begin + '\n' + section + '\n' + end + '\n'
open(path, 'w').write(text)
PY
