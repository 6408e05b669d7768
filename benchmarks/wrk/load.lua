-- One wrk workload, configured from the environment (never from the command line, so the bearer
-- token is not visible in the process list and is never printed):
--   BENCH_METHOD        GET or POST
--   BENCH_PATHS         comma-separated request paths, used round robin (one per bench user)
--   BENCH_CONTENT_TYPE  Content-Type of a POST (optional)
--   BENCH_BODY          body of a POST (optional)
--   BENCH_TOKEN         bearer token (optional; the bare handler takes none)
--   BENCH_EXPECT        the status every answer must have
-- done() prints one JSON line: requests, duration, latency percentiles (microseconds) and the
-- count of answers with another status or a socket error.

local method = os.getenv("BENCH_METHOD") or "GET"
local content_type = os.getenv("BENCH_CONTENT_TYPE")
local body = os.getenv("BENCH_BODY")
local token = os.getenv("BENCH_TOKEN")
local expect = tonumber(os.getenv("BENCH_EXPECT") or "200")

local threads = {}
local requests_ = {}
local next_index = 0
unexpected = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local headers = {}
  if token and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  if content_type and content_type ~= "" then
    headers["Content-Type"] = content_type
  end
  for path in string.gmatch(os.getenv("BENCH_PATHS") or "/", "[^,]+") do
    table.insert(requests_, wrk.format(method, path, headers, body))
  end
end

function request()
  next_index = next_index % #requests_ + 1
  return requests_[next_index]
end

function response(status, headers, body)
  if status ~= expect then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("unexpected") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "unexpected_status": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, bad, e.connect + e.read + e.write + e.timeout))
end
