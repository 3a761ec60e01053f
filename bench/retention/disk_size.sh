#!/usr/bin/env bash
# The data directory's size over time under a steady load with retention,
# with log compaction (--archive-dir) and, as the same run's reference,
# without it. See README.md here for what it measures and how to read it.
#
#   flock /tmp/jobtrail-cpu.lock bench/retention/disk_size.sh [MINUTES] [OUT_DIR]
#
# MINUTES (default 4) per variant; OUT_DIR (default bench/retention/out)
# gets disk_size.csv (one row per sample and variant) and summary.txt.
# Needs build/jobtrail and build/bench/load/jobtrail_load.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/build/jobtrail"
load="$root/build/bench/load/jobtrail_load"
minutes="${1:-4}"
out="${2:-$root/bench/retention/out}"
retention="${RETENTION:-30s}"        # form-fill jobs expire this long after enqueue
wave_jobs="${WAVE_JOBS:-2000}"       # jobs per jobtrail_load run (runs back to back)
sample_s="${SAMPLE_S:-10}"
[ -x "$bin" ] && [ -x "$load" ] || { echo "build jobtrail and jobtrail_load first" >&2; exit 2; }
mkdir -p "$out"
work="$(mktemp -d /tmp/jobtrail-disk-XXXXXX)"
server_pid=""
load_pid=""
cleanup() {
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

bytes() { du -sb "$1" 2>/dev/null | cut -f1; }

csv="$out/disk_size.csv"
echo "variant,seconds,data_dir_bytes,log_bytes,views_bytes,archive_bytes,jobs_done" > "$csv"

run_variant() {
  local variant="$1"; shift
  local data="$work/$variant/data" archive="$work/$variant/archive"
  mkdir -p "$work/$variant"
  local extra=()
  [ "$variant" = compaction ] && extra=(--archive-dir "$archive")
  "$bin" serve --data-dir "$data" --listen 127.0.0.1:0 --insecure-no-auth --no-dialects \
    --no-access-log --retention "form-fill=$retention" --tick-ms 1000 "${extra[@]}" \
    > "$work/$variant/serve.out" 2> "$work/$variant/serve.err" &
  server_pid=$!
  local url=""
  for _ in $(seq 1 500); do
    url="$(sed -n 's/^jobtrail listening on //p' "$work/$variant/serve.out" | head -1)"
    [ -n "$url" ] && break
    sleep 0.02
  done
  [ -n "$url" ] || { echo "server did not start" >&2; cat "$work/$variant/serve.err" >&2; exit 1; }
  # Steady load: waves of jobtrail_load back to back until told to stop.
  : > "$work/$variant/done"
  (
    child=""
    trap 'kill $child 2>/dev/null; exit 0' TERM
    while true; do
      "$load" --url "$url" --jobs "$wave_jobs" --workers 8 --pollers 1 --progress 1 \
        --error-every 50 --mode batch --timeout 120 > /dev/null 2>&1 &
      child=$!
      wait "$child" || true
      echo "$wave_jobs" >> "$work/$variant/done"
    done
  ) &
  load_pid=$!
  local start end now
  start="$(date +%s)"
  end=$((start + minutes * 60))
  while :; do
    now="$(date +%s)"
    local done_jobs
    done_jobs="$(awk '{s+=$1} END {print s+0}' "$work/$variant/done")"
    echo "$variant,$((now - start)),$(bytes "$data"),$(bytes "$data/log"),$(bytes "$data/views"),$(bytes "$archive" || echo 0),$done_jobs" >> "$csv"
    [ "$now" -ge "$end" ] && break
    sleep "$sample_s"
  done
  kill "$load_pid" 2>/dev/null; wait "$load_pid" 2>/dev/null || true; load_pid=""
  kill "$server_pid"; wait "$server_pid" || true; server_pid=""
  grep -c "log compaction:" "$work/$variant/serve.err" > "$work/$variant/passes" || true
}

run_variant compaction
run_variant reference

# Summary: size at each minute, and the spread over the second half.
{
  echo "steady load (jobtrail_load waves of $wave_jobs jobs, batch mode), retention form-fill=$retention,"
  echo "sampled every ${sample_s}s for $minutes min per variant; sizes in MiB"
  echo
  awk -F, 'NR > 1 {
      mib = $3 / 1048576; key = $1
      if ($2 % 60 < '"$sample_s"') printf "%-10s t=%4ds data_dir=%7.1f log=%7.1f views=%6.1f archive=%6.1f jobs=%d\n", $1, $2, mib, $4/1048576, $5/1048576, $6/1048576, $7
      if ($2 >= '"$minutes"' * 30) { n[key]++; if (!(key in lo) || mib < lo[key]) lo[key] = mib; if (mib > hi[key]) hi[key] = mib }
    }
    END { print ""; for (k in n) printf "%-10s second half: data_dir between %.1f and %.1f MiB\n", k, lo[k], hi[k] }' "$csv"
} | tee "$out/summary.txt"
