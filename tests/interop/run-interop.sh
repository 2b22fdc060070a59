#!/usr/bin/env bash
# Runs one interop pairing: starts SERVER on a temporary Unix socket, waits for it, runs
# CLIENT against it, then stops and reaps the server and removes the socket.
# usage: run-interop.sh SERVER CLIENT      (both take --socket PATH)
#        run-interop.sh --skip REASON      (exits 77: ctest counts the test as skipped)
set -uo pipefail

if [ "${1:-}" = --skip ]; then
  echo "SKIP: ${2:-no reason given}"
  exit 77
fi
[ $# -eq 2 ] || { echo "usage: $0 SERVER CLIENT | --skip REASON" >&2; exit 2; }
server=$1 client=$2
for bin in "$server" "$client"; do
  [ -x "$bin" ] || { echo "FAIL: $bin was not built" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/runvm-interop.XXXXXX)
sock=$dir/echo.sock
server_pid=

# TERM, then KILL after 5 s; always reaps. Returns the server's exit status.
stop_server() {
  local pid=$server_pid status=0
  server_pid=
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "FAIL: server $pid ignored SIGTERM for 5 s, killing it" >&2
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 1
  fi
  wait "$pid" || status=$?
  return $status
}
trap 'stop_server; rm -rf "$dir"' EXIT

"$server" --socket "$sock" &
server_pid=$!

for _ in $(seq 100); do
  [ -S "$sock" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    wait "$server_pid"
    echo "FAIL: server exited with status $? before listening on $sock" >&2
    server_pid=
    exit 1
  fi
  sleep 0.1
done
[ -S "$sock" ] || { echo "FAIL: server did not listen on $sock within 10 s" >&2; exit 1; }

timeout --signal=KILL 120 "$client" --socket "$sock"
client_status=$?

# A server that died during the run (a crash on hostile input, say) fails the test too.
if ! kill -0 "$server_pid" 2>/dev/null; then
  wait "$server_pid"
  echo "FAIL: server exited with status $? during the run" >&2
  server_pid=
  exit 1
fi
if ! stop_server; then
  echo "FAIL: server did not shut down cleanly on SIGTERM" >&2
  exit 1
fi
if [ "$client_status" -ne 0 ]; then
  echo "FAIL: client exited with status $client_status" >&2
  exit 1
fi
echo "PASS: $(basename "$client") against $(basename "$server")"
