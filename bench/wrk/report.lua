-- Shared wrk report for make bench: loaded by get.lua and post.lua with
-- dofile(<their own directory> .. "report.lua").
-- Defines done(), which wrk calls once at the end of the run; it writes ONE
-- line to stdout:
--   WRK_JSON {"requests":..,"duration_us":..,"rps":..,"errors":{..},"non_2xx":..,"latency_us":{..}}
-- Units: duration and latency in microseconds (wrk's native unit), rps =
-- completed requests / run seconds (what wrk prints as Requests/sec).
-- non_2xx is summary.errors.status: wrk counts responses with status > 399
-- there (3xx are NOT counted). Those requests still count in "requests".

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
      .. '"non_2xx":%s,'
      .. '"latency_us":{"p50":%s,"p90":%s,"p99":%s,"max":%s,"mean":%s}}\n',
    num(summary.requests), num(summary.duration), num(rps),
    num(e.connect), num(e.read), num(e.write), num(e.status), num(e.timeout),
    num(e.status),
    num(latency:percentile(50)), num(latency:percentile(90)),
    num(latency:percentile(99)), num(latency.max), num(latency.mean))
  io.write(line)
  io.flush()
end
