-- wrk script: POST /v1/jobs, one small job per request (the write path:
-- validation, a synced append with group commit, read-your-writes wait).
--   wrk -t1 -c32 -d10s -s bench/http/enqueue.lua http://127.0.0.1:PORT
wrk.method = "POST"
wrk.path = "/v1/jobs"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"type":"bench","queue":"bench","owner":"wrk","payload":{"n":1}}'

function done(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p99 %.2f ms, non-2xx/3xx %d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status))
end
