#!/usr/bin/env bash
# ctest driver for jobtrail_load: ~200 jobs in per-transition mode (with a few
# errors and retries) through a real `jobtrail serve` on a free port and a
# temp data dir. Passes when the JSON report says every job completed and no
# request failed. No timing is checked: this guards the tool, not the speed.
#   smoke_test.sh JOBTRAIL_BIN JOBTRAIL_LOAD_BIN
set -euo pipefail
jobtrail=$1
load=$2
work=$(mktemp -d /tmp/jobtrail-load-smoke-XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$jobtrail" serve --data-dir "$work/data" --listen 127.0.0.1:0 --insecure-no-auth --no-dialects \
  --no-access-log > "$work/server.out" 2> "$work/server.err" &
server_pid=$!
for _ in $(seq 1 200); do
  grep -q "listening on" "$work/server.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err"; echo "server exited"; exit 1; }
  sleep 0.05
done
# "jobtrail listening on http://127.0.0.1:PORT" (or HOST:PORT without a scheme).
url=$(grep -m1 "listening on" "$work/server.out" | sed 's/.*listening on //')
[ -n "$url" ] || { cat "$work/server.err"; echo "server did not say where it listens"; exit 1; }
case $url in http://*) ;; *) url="http://$url" ;; esac

status=0
"$load" --url "$url" --mode per-transition --jobs 200 --workers 8 --pollers 2 \
  --progress 2 --error-every 25 --timeout 90 --json "$work/report.json" || status=$?
cat "$work/report.json" 2>/dev/null || true
[ "$status" -eq 0 ] || { echo "jobtrail_load exited $status"; exit 1; }

# The lifecycle object of the pretty-printed report: every job completed (by
# our count and by the server's), 8 jobs errored and were retried, no errors.
lifecycle=$(sed -n '/"lifecycle": {/,/}/p' "$work/report.json")
for want in '"completed": 200,' '"all_completed": true,' '"server_agrees": true,' '"server_completed": 200,' \
            '"errored_jobs": 8,' '"errors": 0,' '"timed_out": false,'; do
  grep -qF "$want" <<< "$lifecycle" || { echo "report lacks $want"; exit 1; }
done

# The batched worker protocol with claims of 50 (--claim-batch), on a queue
# of its own: every job completed, one claim per 50 jobs at most.
status=0
"$load" --url "$url" --mode protocol-batch --claim-batch 50 --queue smoke-batch --jobs 200 \
  --workers 2 --progress 1 --timeout 90 --json "$work/batch.json" || status=$?
[ "$status" -eq 0 ] || { cat "$work/batch.json" 2>/dev/null; echo "protocol-batch exited $status"; exit 1; }
grep -qF '"claim_batch": 50,' "$work/batch.json" || { echo "report lacks claim_batch 50"; exit 1; }
lifecycle=$(sed -n '/"lifecycle": {/,/}/p' "$work/batch.json")
for want in '"completed": 200,' '"all_completed": true,' '"errors": 0,'; do
  grep -qF "$want" <<< "$lifecycle" || { echo "protocol-batch report lacks $want"; exit 1; }
done
echo "ok"
