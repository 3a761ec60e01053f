#!/usr/bin/env bash
# Enqueue throughput of 1, 2 and 3 jobtrail nodes on one shared PostgreSQL
# log, beside one node on the embedded RocksDB log, in one run:
#  1. a PostgreSQL 15 started by the tests' harness (jobtrail_pg_fixture:
#     initdb into a temp dir, loopback port, default durability: fsync on,
#     synchronous_commit on), a fresh database per cluster size;
#  2. the reference: one `jobtrail serve` on the RocksDB log (synced appends);
#  3. N = 1, 2, 3 `jobtrail serve --log postgresql://...` nodes, each with
#     its own data directory (read models), each loaded by its own wrk
#     (POST /v1/jobs, bench/http/enqueue.lua, CONNS connections a node),
#     all at once; the figure is the sum.
# Every node, PostgreSQL and every wrk share this machine's cores and disk:
# on a 2-core box more nodes add no capacity, they show what sharing one
# log costs. Usage: bench/cluster/run.sh [BUILD_DIR=build] [DURATION=10s]
# Needs: wrk, psql/createdb (postgresql-client), the built tests
# (jobtrail_pg_fixture). Prints the figures for README's table.
# REF=<another jobtrail binary> adds its single-node RocksDB run beside this
# build's (before/after a change to the write path).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
duration=${2:-10s}
conns=${CONNS:-32}
threads=${THREADS:-2}
work=$(mktemp -d /tmp/jobtrail-cluster-bench-XXXXXX)
fixture="$build/tests/eventstore/postgres/jobtrail_pg_fixture"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  "$fixture" stop "$work/pg.state" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Starts `jobtrail serve` with the given extra flags; sets $served to its
# base URL (not a $(...): the server must be this shell's child).
binary="$build/jobtrail"
serve() {
  local dir=$1
  shift
  rm -f "$dir.out"
  "$binary" serve --data-dir "$dir" --listen 127.0.0.1:0 --no-access-log \
    --insecure-no-auth --threads "$threads" "$@" > "$dir.out" 2> "$dir.err" &
  pids+=($!)
  for _ in $(seq 1 400); do
    grep -q "listening on" "$dir.out" 2>/dev/null && break
    sleep 0.05
  done
  served=$(grep -m1 "listening on" "$dir.out" | sed "s/.*listening on //")
}

# wrk on every base URL at once; prints the summed requests/s.
load() {
  local i=0 total=0 wrks=()
  for base in "$@"; do
    wrk -t1 -c"$conns" -d"$duration" --latency -s "$root/bench/http/enqueue.lua" "$base" \
      > "$work/wrk.$i" &
    wrks+=($!)
    i=$((i + 1))
  done
  for p in "${wrks[@]}"; do wait "$p"; done
  for i in $(seq 0 $((${#wrks[@]} - 1))); do
    local rps
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.$i")
    echo "    node $i: $rps req/s, $(grep -m1 '^p50' "$work/wrk.$i")" >&2
    total=$(echo "$total + $rps" | bc)
  done
  echo "$total"
}

"$fixture" start "$work/pg.state" > "$work/pg.out"
admin=$(grep -o 'postgresql://[^ ]*' "$work/pg.out")
server=${admin%/postgres}
port=${server##*:}
echo "PostgreSQL: $server"

echo "== RocksDB log, 1 node (reference): wrk -t1 -c$conns -d$duration POST /v1/jobs"
serve "$work/rocks"
rocks=$(load "$served")
echo "  total $rocks req/s"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
# REF=path/to/another/jobtrail: the same RocksDB run with that binary (a
# before/after of the single-node write path), then this build's again.
if [ -n "${REF:-}" ]; then
  for b in "$REF" "$build/jobtrail"; do
    binary=$b
    echo "== RocksDB log, 1 node, $b"
    rm -rf "$work/rocks"
    serve "$work/rocks"
    echo "  total $(load "$served") req/s"
    kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
  done
  binary="$build/jobtrail"
fi

for n in 1 2 3; do
  db="bench_n$n"
  createdb -h 127.0.0.1 -p "$port" -U jobtrail "$db"
  "$build/jobtrail" migrate --log "$server/$db" > /dev/null
  bases=()
  for i in $(seq 1 "$n"); do
    serve "$work/pg-$n-$i" --log "$server/$db"
    bases+=("$served")
  done
  echo "== PostgreSQL log, $n node(s): wrk -t1 -c$conns -d$duration POST /v1/jobs on each"
  total=$(load "${bases[@]}")
  events=$(psql -h 127.0.0.1 -p "$port" -U jobtrail -d "$db" -Atc \
    "SELECT count(*) FROM jobtrail_events")
  echo "  total $total req/s ($events events in the log)"
  for i in $(seq 1 "$n"); do
    kill "${pids[-$i]}" 2>/dev/null || true
  done
  for i in $(seq 1 "$n"); do wait "${pids[-$i]}" 2>/dev/null || true; done
done
