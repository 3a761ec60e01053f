#!/usr/bin/env bash
# What the webhook dispatcher costs a server that has no subscriptions and
# no callback_url jobs: the dispatcher still follows the log and looks up
# each final event's job. jobtrail_load's lifecycles against `jobtrail
# serve` with webhooks on (the default) and with --no-webhooks, alternating
# in one run, ROUNDS times each; medians and the ratio.
#
#   bench/webhooks/overhead.sh [build-dir]     env: JOBS=30000 WORKERS=50
#     MODE=protocol-batch ROUNDS=3
# Hold the shared CPU lock around it (flock /tmp/jobtrail-cpu.lock ...).
set -euo pipefail
build=${1:-build}
jobs=${JOBS:-30000}
workers=${WORKERS:-50}
mode=${MODE:-protocol-batch}
rounds=${ROUNDS:-3}
work=$(mktemp -d /tmp/jobtrail-webhooks-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

run() {  # run NAME [serve flags...]: prints jobs/s
  local name=$1
  shift
  local data="$work/data-$name"
  "$build/jobtrail" serve --data-dir "$data" --listen 127.0.0.1:0 --insecure-no-auth \
    --no-dialects --no-access-log "$@" > "$work/$name.out" 2> "$work/$name.err" &
  local pid=$!
  for _ in $(seq 1 200); do grep -q "listening on" "$work/$name.out" 2>/dev/null && break; sleep 0.05; done
  local url
  url=$(grep -m1 "listening on" "$work/$name.out" | sed 's/.*listening on //')
  "$build/bench/load/jobtrail_load" --url "$url" --mode "$mode" --jobs "$jobs" \
    --workers "$workers" --progress 1 --json "$work/$name.json" > /dev/null 2>&1
  kill -TERM "$pid"
  wait "$pid" || true
  rm -rf "$data"
  node -e "console.log(JSON.parse(require('fs').readFileSync('$work/$name.json')).lifecycle.jobs_per_s.toFixed(0))"
}

on=()
off=()
for r in $(seq 1 "$rounds"); do
  on+=("$(run "on-$r")")
  off+=("$(run "off-$r" --no-webhooks)")
  echo "round $r: webhooks on ${on[-1]} jobs/s, --no-webhooks ${off[-1]} jobs/s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_on=$(median "${on[@]}")
m_off=$(median "${off[@]}")
echo "median: webhooks on $m_on jobs/s, --no-webhooks $m_off jobs/s, ratio $(awk "BEGIN {printf \"%.2f\", $m_on / $m_off}")"
