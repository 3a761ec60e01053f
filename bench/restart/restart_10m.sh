#!/usr/bin/env bash
# A restart after kill -9 with 10,000,000 events in the log (issue 10), and
# the bytes on disk per job. See README.md here for what each step does.
#
#   flock /tmp/jobtrail-cpu.lock bench/restart/restart_10m.sh
#
# Environment (defaults in brackets):
#   JOBS [2000000]      5-event lifecycles written into the log first
#   RUNS [3]            kill -9 / restart rounds (the median is reported)
#   LOAD_SECONDS [20]   write load on the server before each kill -9
#   WAVE_JOBS [2000]    jobs per jobtrail_load run; runs go back to back, so
#                       the kill lands mid-wave with at most this many jobs
#                       not final (the log stays one of finished jobs)
#   BUILD_DIR [build]   where jobtrail and the bench binaries are
#   DATA [a new dir]    an existing data directory from an earlier run to
#                       reuse (its fill and compaction are skipped); kept
#   OUT [a new dir]     where the reports go (summary.txt, per-round logs)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${BUILD_DIR:-$root/build}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
bin="$build/jobtrail"
fill="$build/bench/rebuild/jobtrail_fill_log"
compact="$build/bench/restart/jobtrail_compact_store"
load="$build/bench/load/jobtrail_load"
jobs="${JOBS:-2000000}"
runs="${RUNS:-3}"
load_seconds="${LOAD_SECONDS:-20}"
wave_jobs="${WAVE_JOBS:-2000}"
for b in "$bin" "$fill" "$compact" "$load"; do
  [ -x "$b" ] || { echo "missing $b: cmake --build build --target jobtrail jobtrail_fill_log jobtrail_compact_store jobtrail_load" >&2; exit 2; }
done
command -v curl > /dev/null || { echo "needs curl" >&2; exit 2; }
out="${OUT:-$(mktemp -d /tmp/jobtrail-restart-XXXXXX)}"
mkdir -p "$out"
keep_data=1
if [ -z "${DATA:-}" ]; then
  keep_data=0
  DATA="$(mktemp -d /tmp/jobtrail-restart-data-XXXXXX)/data"
fi
data="$DATA"
server_pid=""
load_pid=""
cleanup() {
  [ -n "$load_pid" ] && kill "$load_pid" 2> /dev/null && wait "$load_pid" 2> /dev/null
  [ -n "$server_pid" ] && kill "$server_pid" 2> /dev/null && wait "$server_pid" 2> /dev/null
  [ "$keep_data" = 0 ] && rm -rf "$(dirname "$data")"
  true
}
trap cleanup EXIT INT TERM
summary="$out/summary.txt"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }
bytes() { du -sb "$1" | cut -f1; }
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

say "restart_10m: $(date -u +'%Y-%m-%d %H:%M UTC'), $(git -C "$root" rev-parse --short HEAD 2> /dev/null || echo '?'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. The log: JOBS lifecycles of 5 events, every job final; then the read
#    models by `jobtrail rebuild`, then a full compaction: bytes per job.
if [ ! -d "$data/log" ]; then
  t=$(now)
  "$fill" --data-dir "$data" --jobs "$jobs" | tee -a "$summary"
  t2=$(now)
  "$bin" rebuild --data-dir "$data" > "$out/rebuild.txt" 2>&1
  say "filled in $(secs "$t" "$t2") s, rebuilt in $(secs "$t2" "$(now)") s: $(tail -1 "$out/rebuild.txt")"
  before=$(bytes "$data"); before_log=$(bytes "$data/log"); before_views=$(bytes "$data/views")
  "$compact" --data-dir "$data" > /dev/null
  after=$(bytes "$data"); after_log=$(bytes "$data/log"); after_views=$(bytes "$data/views")
  say "bytes on disk, $jobs jobs x 5 events:"
  say "  as left by fill + rebuild: $before B = $((before / jobs)) B/job (log $((before_log / jobs)), views $((before_views / jobs)))"
  say "  after a full compaction:   $after B = $((after / jobs)) B/job (log $((after_log / jobs)), views $((after_views / jobs)))"
else
  say "reusing $data ($(bytes "$data") B)"
fi

start_server() {  # $1: a name for its output files; sets server_pid
  "$bin" serve --data-dir "$data" --listen 127.0.0.1:0 --insecure-no-auth --no-dialects \
    --no-access-log > "$out/$1.out" 2> "$out/$1.err" &
  server_pid=$!
}
server_url() {  # waits for the "listening on" line
  local url=""
  while [ -z "$url" ]; do
    kill -0 "$server_pid" 2> /dev/null || { echo "server died" >&2; cat "$out/$1.err" >&2; exit 1; }
    url="$(sed -n 's/^jobtrail listening on //p' "$out/$1.out" | head -1)"
  done
  echo "$url"
}
wait_ready() {  # polls /readyz back to back until it answers 200
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/readyz")" = 200 ]; do
    kill -0 "$server_pid" 2> /dev/null || { echo "server died" >&2; exit 1; }
  done
}
metric() { curl -s "$1/metrics" | sed -n "s/^$2 //p" | head -1; }

# 2. Rounds: serve, write load, kill -9 mid-load, restart, time to ready.
start_server serve-0
url="$(server_url serve-0)"
wait_ready "$url"
results=()
for round in $(seq 1 "$runs"); do
  (
    child=""
    trap 'kill $child 2> /dev/null; exit 0' TERM
    while true; do
      "$load" --url "$url" --jobs "$wave_jobs" --workers 50 --progress 1 --mode batch \
        --timeout 600 >> "$out/load-$round.txt" 2>&1 &
      child=$!
      wait "$child" || kill -0 "$server_pid" 2> /dev/null || exit 0  # the server is gone
    done
  ) &
  load_pid=$!
  sleep "$load_seconds"
  head_before=$(metric "$url" jobtrail_log_position)
  kill -9 "$server_pid"; wait "$server_pid" 2> /dev/null || true
  kill "$load_pid" 2> /dev/null; wait "$load_pid" 2> /dev/null || true; load_pid=""
  wal=$(du -cb "$data"/log/*.log 2> /dev/null | tail -1 | cut -f1)
  loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
  t0=$(now)
  start_server "serve-$round"
  url="$(server_url "serve-$round")"
  t1=$(now)
  wait_ready "$url"
  t2=$(now)
  head=$(metric "$url" jobtrail_log_position)
  open_jobs=$(curl -s "$url/v1/stats" | grep -o '"by_status":{[^}]*}' | head -1 |
    grep -oE '"(pending|running|retrying)":[0-9]+' | cut -d: -f2 | paste -sd+ | bc)
  listening=$(secs "$t0" "$t1"); ready=$(secs "$t0" "$t2")
  results+=("$ready")
  say "round $round: killed at log position >= ${head_before:-?} (log WAL $wal B), load average $loadavg; listening after ${listening} s, ready after ${ready} s (log head $head, $open_jobs jobs not final)"
done
kill "$server_pid"; wait "$server_pid" 2> /dev/null || true; server_pid=""
median=$(printf '%s\n' "${results[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p")
say "ready after kill -9: median ${median} s of $runs (all: ${results[*]})"
say "reports in $out"
