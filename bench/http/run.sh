#!/usr/bin/env bash
# The polling benchmark of issue 3, and its ceiling, in one run:
#  1. `jobtrail serve` on a temp data dir, seeded with JOBS jobs via POST /v1/batch;
#  2. wrk polls GET /v1/jobs/{id} over those ids at random (poll.lua);
#  3. wrk fetches GET /healthz (no store: what the HTTP stack alone costs);
#  4. nginx serves a static file of the same size as a status document from
#     a temp config on another loopback port; wrk fetches it the same way.
# Usage: bench/http/run.sh [BUILD_DIR=build] [JOBS=100000] [DURATION=10s]
# Needs: wrk, nginx, curl. Prints the figures for bench/RESULTS-http.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
jobs=${2:-100000}
duration=${3:-10s}
threads=${THREADS:-2}
work=$(mktemp -d /tmp/jobtrail-bench-XXXXXX)
server_pid=""
nginx_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# --no-sync: seeding speed only; the polled reads never sync anyway.
# --insecure-no-auth: the figures are the HTTP stack and the read path
# (authentication adds one HMAC and one bucket per request; README Security).
"$build/jobtrail" serve --data-dir "$work/data" --listen 127.0.0.1:0 --no-access-log \
  --no-sync --insecure-no-auth --threads "$threads" > "$work/server.out" 2> "$work/server.err" &
server_pid=$!
for _ in $(seq 1 200); do
  grep -q "listening on" "$work/server.out" 2>/dev/null && break
  sleep 0.05
done
base=$(grep -m1 "listening on" "$work/server.out" | sed "s/.*listening on //")
echo "server: $base (threads $threads)"

"$build/bench/http/jobtrail_seed_jobs" "$base" "$jobs" "$work/ids.txt" 500 4
id=$(head -1 "$work/ids.txt")
curl -s "$base/v1/jobs/$id" > "$work/doc.json"
size=$(stat -c %s "$work/doc.json")
echo "status document: $size bytes (first job; sizes vary a little)"

# Warm-up (not reported): lets the views' background flush/compaction after
# seeding settle and fills the block cache, so the runs measure steady state.
wrk -t1 -c64 -d5s -s "$root/bench/http/poll.lua" "$base" -- "$work/ids.txt" > /dev/null

echo "== jobtrail GET /healthz (the HTTP stack alone, no store): wrk -t1 -c64 -d$duration"
wrk -t1 -c64 -d"$duration" --latency "$base/healthz"

echo "== jobtrail GET /v1/jobs/{id}, random over $jobs jobs: wrk -t1 -c64 -d$duration"
wrk -t1 -c64 -d"$duration" --latency -s "$root/bench/http/poll.lua" "$base" -- "$work/ids.txt"

# nginx: a static file of the same size, same wrk settings.
mkdir -p "$work/www" "$work/nginx"
chmod 755 "$work" "$work/www"  # nginx workers run as an unprivileged user
head -c "$size" /dev/zero | tr '\0' 'x' > "$work/www/doc.json"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:18089;
    location / { root $work/www; default_type application/json; }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
for _ in $(seq 1 200); do
  curl -sf -o /dev/null http://127.0.0.1:18089/doc.json && break
  sleep 0.05
done
echo "== nginx static file of $size bytes: wrk -t1 -c64 -d$duration"
wrk -t1 -c64 -d"$duration" --latency http://127.0.0.1:18089/doc.json
