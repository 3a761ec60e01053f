#!/usr/bin/env bash
# The job-lifecycle comparison of issue 10, in one run, every figure beside
# its references:
#  1. BullMQ on a private redis-server (loopback, free port, AOF everysec, temp
#     dir): JOBS jobs pre-added, a Worker of concurrency WORKERS, each job
#     updateProgress(50) then a small result; jobs/s of the processing phase.
#  2. jobtrail serve (synced, the default) on a fresh temp data dir per run,
#     --insecure-no-auth --no-dialects, driven by jobtrail_load in each MODE
#     with WORKERS workers and JOBS jobs; then NOSYNC_MODES again with --no-sync.
#  3. db_bench fillseq, synced, batches of 100, 200-byte values: the synced
#     append ceiling of this machine's RocksDB, divided by 3 events per job
#     (started, progressed, completed).
#  4. wrk on the same server's GET /healthz with WORKERS connections: the
#     HTTP stack's requests/s with no store behind it, divided by the two
#     requests a job takes in the worker protocol.
# Prints a table (jobs/s, ratio to BullMQ) and writes every report to OUT.
#
#   bench/lifecycle/compare.sh [BUILD_DIR=build]
#   env: JOBS=30000 WORKERS=50 MODES="per-transition batch protocol protocol-batch protocol-batch:50"
#        NOSYNC_MODES="per-transition batch" STEP_TIMEOUT=300 OUT=(a temp dir, kept)
#        JOBTRAIL_BIN=BUILD_DIR/jobtrail
# Run it alone: `flock /tmp/jobtrail-cpu.lock bench/lifecycle/compare.sh`.
# Needs bench/install-bench-deps (redis-server, rocksdb-tools, wrk) and node + npm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
jobs=${JOBS:-30000}
workers=${WORKERS:-50}
# A mode may name its claim size: protocol-batch:50 claims 50 jobs at a time
# (jobtrail_load --claim-batch; 10 otherwise).
modes=${MODES:-per-transition batch protocol protocol-batch protocol-batch:50}
nosync_modes=${NOSYNC_MODES:-per-transition batch}
step_timeout=${STEP_TIMEOUT:-300}
out=${OUT:-$(mktemp -d /tmp/jobtrail-lifecycle-XXXXXX)}
mkdir -p "$out"
work=$(mktemp -d /tmp/jobtrail-lifecycle-work-XXXXXX)
redis_pid=""
server_pid=""
stop_pid() {  # SIGTERM, then SIGKILL after 10 s: a stop never hangs the run
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  if [ -n "$server_pid" ]; then stop_pid "$server_pid"; fi
  if [ -n "$redis_pid" ]; then stop_pid "$redis_pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# JOBTRAIL_BIN measures another server build (say, a branch's) with this
# build's jobtrail_load.
jobtrail=${JOBTRAIL_BIN:-$build/jobtrail}
load=$build/bench/load/jobtrail_load

for tool in redis-server redis-cli node npm db_bench "$jobtrail" "$load"; do
  command -v "$tool" > /dev/null || { echo "missing: $tool (bench/install-bench-deps; cmake --build $build --target jobtrail jobtrail_load)" >&2; exit 2; }
done

# A free loopback port: nothing answers a connect there (redis cannot pick
# its own, unlike jobtrail's --listen 127.0.0.1:0).
free_port() {
  for _ in $(seq 1 100); do
    local p=$((20000 + RANDOM % 40000))
    if ! (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(uname -srm), $(nproc) cores"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "jobs: $jobs, workers: $workers"
  echo "server: $jobtrail"
  echo "redis: $(redis-server --version | cut -d' ' -f3), node: $(node --version), db_bench: $(dpkg-query -W -f='${Version}' rocksdb-tools 2>/dev/null || echo '?')"
} | tee "$out/machine.txt"

# utime + stime of a live process, in clock ticks (0 once it is gone).
cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# --- 1. BullMQ --------------------------------------------------------------
if [ ! -d "$here/bullmq/node_modules/bullmq" ]; then
  (cd "$here/bullmq" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "bullmq: $(node -p "require('$here/bullmq/node_modules/bullmq/package.json').version"), ioredis: $(node -p "require('$here/bullmq/node_modules/ioredis/package.json').version")" | tee -a "$out/machine.txt"
redis_port=$(free_port)
mkdir -p "$work/redis"
redis-server --bind 127.0.0.1 --port "$redis_port" --protected-mode yes --dir "$work/redis" \
  --appendonly yes --appendfsync everysec --save '' --daemonize no --logfile "$work/redis/log" &
redis_pid=$!
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping > /dev/null 2>&1 && break; sleep 0.05; done
echo "== bullmq: redis on 127.0.0.1:$redis_port (AOF everysec)"
redis_cpu_before=$(cpu_ticks "$redis_pid")
timeout "$step_timeout" node "$here/bullmq/lifecycle.mjs" --port "$redis_port" --jobs "$jobs" \
  --concurrency "$workers" --json "$out/bullmq.json" || echo "bullmq run failed" >&2
# Redis is BullMQ's server: its CPU over the run (adds included), as for jobtrail's.
echo "server_cpu_seconds $(( $(cpu_ticks "$redis_pid") - redis_cpu_before )) $(getconf CLK_TCK)" \
  | awk '{printf "%s %.2f\n", $1, $2 / $3}' > "$out/bullmq.cpu"
stop_pid "$redis_pid"
redis_pid=""

# --- 2. jobtrail --------------------------------------------------------------
# One fresh server and data dir per run: every mode starts from an empty store.
run_jobtrail() {
  local mode=${1%%:*} sync=$2 name=${3/:/-}
  local claim=10
  [ "$mode" != "$1" ] && claim=${1#*:}
  local data="$work/data-$name"
  local flags=(--insecure-no-auth --no-dialects --no-access-log)
  [ "$sync" = nosync ] && flags+=(--no-sync)
  "$jobtrail" serve --data-dir "$data" --listen 127.0.0.1:0 "${flags[@]}" \
    > "$out/server-$name.out" 2> "$out/server-$name.err" &
  server_pid=$!
  for _ in $(seq 1 200); do grep -q "listening on" "$out/server-$name.out" 2>/dev/null && break; sleep 0.05; done
  local url
  url=$(grep -m1 "listening on" "$out/server-$name.out" | sed 's/.*listening on //')
  case $url in http://*) ;; *) url="http://$url" ;; esac
  echo "== jobtrail $mode ($sync) at $url"
  # The server's CPU over the run (user + system, enqueue included): less
  # noisy than jobs/s on a shared machine, and what a change to the server
  # moves first.
  local cpu_before
  cpu_before=$(cpu_ticks "$server_pid")
  # jobtrail_load bounds itself with --timeout; `timeout` is the backstop.
  timeout $((step_timeout + 60)) "$load" --url "$url" --mode "$mode" --jobs "$jobs" \
    --workers "$workers" --progress 1 --claim-batch "$claim" --timeout "$step_timeout" --json "$out/jobtrail-$name.json" \
    > "$out/jobtrail-$name.txt" 2> "$out/jobtrail-$name.err" || echo "jobtrail $name: not clean (see $out/jobtrail-$name.err)" >&2
  echo "server_cpu_seconds $(( $(cpu_ticks "$server_pid") - cpu_before )) $(getconf CLK_TCK)" \
    | awk '{printf "%s %.2f\n", $1, $2 / $3}' > "$out/jobtrail-$name.cpu"
  cat "$out/jobtrail-$name.txt"
  grep -E "^(stopped|error):" "$out/jobtrail-$name.err" | head -3 || true
  # A server that died during the run is reported, with how it ended.
  if ! kill -0 "$server_pid" 2>/dev/null; then
    local status=0
    wait "$server_pid" || status=$?
    echo "jobtrail $name: the SERVER EXITED during the run (status $status; log $out/server-$name.err)" | tee -a "$out/jobtrail-$name.err" >&2
    tail -5 "$out/server-$name.err" >&2
  else
    stop_pid "$server_pid"
  fi
  server_pid=""
  rm -rf "$data"
}
for mode in $modes; do run_jobtrail "$mode" sync "$mode"; done
for mode in $nosync_modes; do run_jobtrail "$mode" nosync "$mode-nosync"; done

# --- 3. db_bench: the synced append ceiling ---------------------------------
echo "== db_bench fillseq --sync=1 --batch_size=100 --value_size=200 --num=$((jobs * 3))"
timeout "$step_timeout" db_bench --benchmarks=fillseq --sync=1 --batch_size=100 --value_size=200 \
  --num=$((jobs * 3)) --db="$work/db_bench" 2>&1 | tee "$out/db_bench.txt" \
  | grep -E "^fillseq" || echo "db_bench failed" >&2
rm -rf "$work/db_bench"

# --- 4. The HTTP ceiling ----------------------------------------------------
# The same server, answering GET /healthz (the whole HTTP stack: Pistache,
# router, request id, metrics; no store) to wrk over as many keep-alive
# connections as there are workers: the requests/s of a store that cost
# nothing. Halved, the jobs/s ceiling of the two-request worker protocol.
if command -v wrk > /dev/null; then
  "$jobtrail" serve --data-dir "$work/data-http" --listen 127.0.0.1:0 --insecure-no-auth \
    --no-dialects --no-access-log > "$out/server-http.out" 2> "$out/server-http.err" &
  server_pid=$!
  for _ in $(seq 1 200); do grep -q "listening on" "$out/server-http.out" 2>/dev/null && break; sleep 0.05; done
  url=$(grep -m1 "listening on" "$out/server-http.out" | sed 's/.*listening on //')
  case $url in http://*) ;; *) url="http://$url" ;; esac
  echo "== wrk -t1 -c$workers -d10s $url/healthz"
  timeout "$step_timeout" wrk -t1 -c"$workers" -d10s --latency "$url/healthz" 2>&1 \
    | tee "$out/wrk-healthz.txt" | grep -E "Requests/sec|Non-2xx" || echo "wrk failed" >&2
  stop_pid "$server_pid"
  server_pid=""
  rm -rf "$work/data-http"
else
  echo "wrk missing (bench/install-bench-deps): no HTTP ceiling" >&2
fi

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"
node "$here/table.mjs" "$out" | tee "$out/table.md"
echo "reports: $out"
