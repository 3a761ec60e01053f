-- wrk script: GET /v1/jobs/{id} for ids drawn at random from a file of
-- existing job ids (one per line, from jobtrail_seed_jobs).
--   wrk -t1 -c64 -d10s -s bench/http/poll.lua http://127.0.0.1:PORT -- IDS_FILE
local ids = {}
local count = 0

function init(args)
  local path = args[1] or os.getenv("JOBTRAIL_IDS") or "ids.txt"
  for line in io.lines(path) do
    count = count + 1
    ids[count] = line
  end
  if count == 0 then error("no job ids in " .. path) end
  -- Each wrk thread gets its own sequence.
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
  return wrk.format("GET", "/v1/jobs/" .. ids[math.random(count)])
end

function done(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p99 %.2f ms, non-2xx/3xx %d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status))
end
