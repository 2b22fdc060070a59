#!/usr/bin/env bash
# ttRPC benchmark: unary Echo round trips per second and p50/p99 latency, runvm's C++ ttRPC
# against containerd's Go ttrpc, on 1 connection and on 8, each with CALLERS sequential
# callers. Prints a markdown table (ratios vs Go client -> Go server) and writes it into the
# ttRPC section of docs/benchmarks.md.
# Each row is the median of ROUNDS interleaved rounds, since the machine is shared.
# usage: scripts/bench/ttrpc.sh   (env: BUILD_DIR=build, DURATION_MS=3000, CALLERS=4,
#                                  PAYLOAD=64, WORKERS=4 (C++ server threads), ROUNDS=5,
#                                  NO_DOC=1 to only print)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
duration_ms=${DURATION_MS:-3000}
callers=${CALLERS:-4}
payload=${PAYLOAD:-64}
workers=${WORKERS:-4}
rounds=${ROUNDS:-5}
clk_tck=$(getconf CLK_TCK)

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" -j "$(nproc)" --target interop-cpp-server interop-cpp-client interop_go
bin_cpp_server=$build/tests/interop/interop-cpp-server
bin_cpp_client=$build/tests/interop/interop-cpp-client
bin_go_server=$build/tests/interop/go-bin/interop-go-server
bin_go_client=$build/tests/interop/go-bin/interop-go-client
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
build_type=${build_type:-RelWithDebInfo} # the top-level CMakeLists.txt's default

work=$(mktemp -d /tmp/runvm-bench-ttrpc.XXXXXX)
server_pid=
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}
trap 'stop_server; rm -rf "$work"' EXIT

start_server() { # lang
  local sock=$work/$1.sock
  rm -f "$sock"
  if [ "$1" = cpp ]; then
    "$bin_cpp_server" --socket "$sock" --workers "$workers" 2>"$work/$1-server.log" &
  else
    "$bin_go_server" --socket "$sock" 2>"$work/$1-server.log" &
  fi
  server_pid=$!
  for _ in $(seq 100); do
    [ -S "$sock" ] && return 0
    sleep 0.1
  done
  echo "bench: $1 server did not listen on $sock within 10 s" >&2
  cat "$work/$1-server.log" >&2
  exit 1
}

# The server's user+system CPU time in clock ticks (fields 14 and 15 of /proc/PID/stat).
server_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }

run_client() { # client-lang server-lang conns
  local sock=$work/$2.sock line ticks_before
  ticks_before=$(server_ticks)
  if [ "$1" = cpp ]; then
    line=$(timeout 120 "$bin_cpp_client" --socket "$sock" --bench --conns "$3" \
      --callers "$callers" --duration-ms "$duration_ms" --payload "$payload")
  else
    line=$(timeout 120 "$bin_go_client" --socket "$sock" -bench -conns "$3" \
      -callers "$callers" -duration "${duration_ms}ms" -payload "$payload")
  fi
  echo "$line server=$2 server_cpu_us=$(( ($(server_ticks) - ticks_before) * 1000000 / clk_tck ))" |
    tee -a "$work/results"
}

for round in $(seq "$rounds"); do
  echo "bench: round $round of $rounds, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  for server in go cpp; do
    start_server "$server"
    for client in go cpp; do
      for conns in 1 8; do
        run_client "$client" "$server" "$conns"
      done
    done
    stop_server
  done
done

load="load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
machine="$(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $build_type build"
python3 "$root/scripts/bench/ttrpc_table.py" "$work/results" \
  --title "Echo of ${payload} B, ${callers} sequential callers per connection, ${duration_ms} ms per run, median of ${rounds} rounds; C++ server with ${workers} workers; $machine, $load; $(date -u +%Y-%m-%d)" \
  ${NO_DOC:+--no-doc} --doc "$root/docs/benchmarks.md"
