#!/usr/bin/env bash
# Issue 12's idle-waiter measurement, with its references, in one run:
#  1. `jobtrail serve` alone, idle: its CPU over WINDOW seconds (the floor);
#  2. N keep-alive long-polls on one job (?wait=60, If-None-Match), all
#     parked: the server's CPU and memory over the same window;
#  3. one append: how long until all N were answered with the new version;
#  4. the same N clients polling every 5 s instead (seed 000's cadence).
# CPU is the server process's utime+stime from /proc, as a share of one core.
# Usage: bench/live/run.sh [BUILD_DIR=build] [N=10000] [WINDOW=20]
# Hold the CPU lock around it (flock /tmp/jobtrail-cpu.lock bench/live/run.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
n=${2:-10000}
window=${3:-20}
# Each side holds N sockets (plus the store's files).
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((n + 512)) ]; then
  echo "ulimit -n is $(ulimit -n); $n connections need $((n + 512))" >&2
  exit 1
fi
work=$(mktemp -d /tmp/jobtrail-live-bench-XXXXXX)
server_pid=""
client_pid=""
cleanup() {
  [ -n "$client_pid" ] && kill "$client_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$build/jobtrail" serve --data-dir "$work/data" --listen 127.0.0.1:0 --no-access-log \
  --insecure-no-auth --max-connections-per-address $((2 * n + 100)) \
  > "$work/server.out" 2> "$work/server.err" &
server_pid=$!
for _ in $(seq 1 200); do
  grep -q "listening on" "$work/server.out" 2>/dev/null && break
  sleep 0.05
done
base=$(grep -m1 "listening on" "$work/server.out" | sed "s/.*listening on //")
port=${base##*:}
job=$(curl -s -X POST "$base/v1/jobs" -d '{"type":"bench","queue":"live"}' |
      sed 's/.*"job_id":"\([^"]*\)".*/\1/')
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
# CPU of $1 over $window seconds, as percent of one core.
cpu() {
  local before after
  before=$(ticks "$1")
  sleep "$window"
  after=$(ticks "$1")
  awk -v d=$((after - before)) -v hz="$hz" -v w="$window" 'BEGIN {printf "%.2f", 100 * d / hz / w}'
}
wait_for() {  # wait_for FILE PATTERN: until the client's log shows it
  for _ in $(seq 1 600); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for /$2/ in $1" >&2
  tail -3 "$1" >&2
  return 1
}

echo "server: $base, job $job, $n connections, ${window}s windows"
sleep 2  # the store's start-up work (first flushes) is over
echo "idle server:            cpu $(cpu "$server_pid")% of a core, rss $(rss_mb "$server_pid") MB"

"$build/bench/live/jobtrail_live_waiters" 127.0.0.1 "$port" "$job" "$n" longpoll \
  $((window + 40)) > "$work/longpoll.out" &
client_pid=$!
wait_for "$work/longpoll.out" "open=$n waiting=$n "
server_cpu=$(cpu "$server_pid")
echo "$n parked long-polls: cpu ${server_cpu}% of a core, rss $(rss_mb "$server_pid") MB" \
     "(client: $(tail -1 "$work/longpoll.out"))"
appended_at=$(date +%s%3N)
curl -s -o /dev/null "$base/v1/jobs/$job/events" -d '{"type":"started","data":{"worker_id":"w"}}'
wait_for "$work/longpoll.out" "all-changed"
answered_at=$(grep -m1 all-changed "$work/longpoll.out" | awk '{print $2}')
echo "one append -> all $n answered 200 after $((answered_at - appended_at)) ms" \
     "(from before the POST, its fsync included)"
kill "$client_pid"; wait "$client_pid" 2>/dev/null || true; client_pid=""
sleep 2  # the server sees those connections go

"$build/bench/live/jobtrail_live_waiters" 127.0.0.1 "$port" "$job" "$n" poll \
  $((window + 10)) 5000 > "$work/poll.out" &
client_pid=$!
wait_for "$work/poll.out" "t=6s"
echo "$n clients polling every 5 s: cpu $(cpu "$server_pid")% of a core" \
     "(client: $(tail -1 "$work/poll.out"))"
