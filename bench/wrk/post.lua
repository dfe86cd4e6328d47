-- wrk script for make bench: POST a fixed body.
--   BENCH_BODY='username=a@b.c&password=x' \
--   BENCH_CONTENT_TYPE=application/x-www-form-urlencoded \
--   wrk ... -s bench/wrk/post.lua http://127.0.0.1:PORT/auth/jwt/login
-- BENCH_BODY is required. BENCH_CONTENT_TYPE defaults to application/json.
-- Authorization: Bearer $BENCH_TOKEN is added when BENCH_TOKEN is set.
-- BENCH_EXPECT=<text>: count 2xx bodies without <text> (see report.lua).
-- BENCH_TOKENS_FILE=<file>: a fresh token from the file for each request (below).
-- Prints one "WRK_JSON {...}" line at the end (see report.lua).
local dir = (debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./")
dofile(dir .. "report.lua")

local body = os.getenv("BENCH_BODY")
if body == nil then
  -- error() would not stop wrk (it would run a bodiless GET), so exit here.
  io.stderr:write("post.lua: BENCH_BODY is not set\n")
  os.exit(2)
end
local ctype = os.getenv("BENCH_CONTENT_TYPE")
if ctype == nil or ctype == "" then
  ctype = "application/json"
end

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = ctype
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

-- BENCH_TOKENS_FILE=<file>: one bearer token per line, each used by ONE request
-- (our login spends the anonymous session it is made on). With BENCH_THREADS=N
-- (wrk's -t), thread k takes lines k+1, k+1+N, ...; once its lines run out it
-- repeats its last token, and those requests fail and count in non_2xx.
local tokens_file = os.getenv("BENCH_TOKENS_FILE")
if tokens_file and tokens_file ~= "" then
  local tokens = {}
  for line in io.lines(tokens_file) do
    if line ~= "" then
      tokens[#tokens + 1] = line
    end
  end
  local stride = tonumber(os.getenv("BENCH_THREADS") or "1") or 1
  local next_index = 0
  local report_setup = setup
  function setup(thread)
    thread:set("thread_index", next_index)
    next_index = next_index + 1
    if report_setup then
      report_setup(thread)
    end
  end
  local line
  function request()
    line = line or (thread_index or 0) + 1
    local headers = {}
    for k, v in pairs(wrk.headers) do
      headers[k] = v
    end
    headers["Authorization"] = "Bearer " .. (tokens[line] or tokens[#tokens])
    if tokens[line + stride] then
      line = line + stride
    end
    return wrk.format(nil, nil, headers, nil)
  end
end
