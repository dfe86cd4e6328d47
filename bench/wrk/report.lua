-- Shared wrk report for make bench: loaded by get.lua and post.lua with
-- dofile(<their own directory> .. "report.lua").
-- Defines done(), which wrk calls once at the end of the run; it writes ONE
-- line to stdout:
--   WRK_JSON {"requests":..,"duration_us":..,"rps":..,"errors":{..},"non_2xx":..,
--             "unexpected_body":..,"latency_us":{..}}
-- Units: duration and latency in microseconds (wrk's native unit), rps =
-- completed requests / run seconds (what wrk prints as Requests/sec).
-- non_2xx is summary.errors.status: wrk counts responses with status > 399
-- there (3xx are NOT counted). Those requests still count in "requests".
--
-- BENCH_EXPECT=<text>: every 2xx response's body must contain <text> (a plain
-- substring, not a pattern); "unexpected_body" counts those that do not
-- (better-auth's get-session answers 200 `null` for a session it does not
-- know, which no status check sees). Without BENCH_EXPECT no body is read
-- and "unexpected_body" is null. Each wrk thread counts in its own Lua state;
-- done() adds the threads' counts up.

local expect = os.getenv("BENCH_EXPECT")
if expect == "" then
  expect = nil
end

if expect then
  local threads = {}
  function setup(thread)
    table.insert(threads, thread)
  end
  function init(args)
    unexpected_body = 0
  end
  function response(status, headers, body)
    if status >= 200 and status < 300 and not (body and string.find(body, expect, 1, true)) then
      unexpected_body = unexpected_body + 1
    end
  end
  function unexpected_bodies()
    local n = 0
    for _, thread in ipairs(threads) do
      n = n + (thread:get("unexpected_body") or 0)
    end
    return n
  end
else
  function unexpected_bodies()
    return nil
  end
end

local function num(x)
  if x == nil or x ~= x or x == math.huge or x == -math.huge then
    return "null"
  end
  if x == math.floor(x) and math.abs(x) < 2^53 then
    return string.format("%d", x)
  end
  return string.format("%.3f", x)
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  local rps = secs > 0 and summary.requests / secs or nil
  local line = string.format(
    'WRK_JSON {"requests":%s,"duration_us":%s,"rps":%s,'
      .. '"errors":{"connect":%s,"read":%s,"write":%s,"status":%s,"timeout":%s},'
      .. '"non_2xx":%s,"unexpected_body":%s,'
      .. '"latency_us":{"p50":%s,"p90":%s,"p99":%s,"max":%s,"mean":%s}}\n',
    num(summary.requests), num(summary.duration), num(rps),
    num(e.connect), num(e.read), num(e.write), num(e.status), num(e.timeout),
    num(e.status), num(unexpected_bodies()),
    num(latency:percentile(50)), num(latency:percentile(90)),
    num(latency:percentile(99)), num(latency.max), num(latency.mean))
  io.write(line)
  io.flush()
end
