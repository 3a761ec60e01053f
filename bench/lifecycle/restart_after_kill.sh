#!/bin/bash
# Usage: [BUILD_DIR=build] [JOBS=150000] bench/lifecycle/restart_after_kill.sh
# Fills a --no-sync server with JOBS batch-mode lifecycles (4 events each) with
# jobtrail_load, kills it with SIGKILL, and times a restart until listening and
# until /readyz answers 200 (the read models caught up). Loopback only.
# kill -9 under load, then time the restart until /readyz says ready.
D=$(mktemp -d)
B=${BUILD_DIR:-build}
$B/jobtrail serve --data-dir $D/data --listen 127.0.0.1:0 --insecure-no-auth --no-dialects --no-access-log --no-sync > $D/out.txt 2>$D/err.txt &
SPID=$!
for i in $(seq 50); do grep -q listening $D/out.txt 2>/dev/null && break; sleep 0.1; done
PORT=$(head -1 $D/out.txt | grep -o '[0-9]*$')
$B/bench/load/jobtrail_load --url http://127.0.0.1:$PORT --jobs ${JOBS:-150000} --workers 50 --progress 1 --mode batch > $D/load.txt 2>&1
curl -s localhost:$PORT/metrics | grep -E "^jobtrail_log_position|log_position" | head -2
kill -9 $SPID; wait $SPID 2>/dev/null
du -sh $D/data/log $D/data/views
T0=$(date +%s.%N)
$B/jobtrail serve --data-dir $D/data --listen 127.0.0.1:0 --insecure-no-auth --no-dialects --no-access-log > $D/out2.txt 2>$D/err2.txt &
SPID=$!
for i in $(seq 2000); do grep -q listening $D/out2.txt 2>/dev/null && break; sleep 0.01; done
T1=$(date +%s.%N)
PORT=$(head -1 $D/out2.txt | grep -o '[0-9]*$')
for i in $(seq 6000); do [ "$(curl -s -o /dev/null -w '%{http_code}' localhost:$PORT/readyz)" = 200 ] && break; sleep 0.01; done
T2=$(date +%s.%N)
echo "listening after $(echo "$T1 - $T0" | bc) s, ready after $(echo "$T2 - $T0" | bc) s"
grep -E "jobs/s$|events" $D/load.txt | head -3
kill $SPID; wait $SPID 2>/dev/null; rm -rf $D
