-- wrk script for make bench: POST a fixed body.
--   BENCH_BODY='username=a@b.c&password=x' \
--   BENCH_CONTENT_TYPE=application/x-www-form-urlencoded \
--   wrk ... -s bench/wrk/post.lua http://127.0.0.1:PORT/auth/jwt/login
-- BENCH_BODY is required. BENCH_CONTENT_TYPE defaults to application/json.
-- Authorization: Bearer $BENCH_TOKEN is added when BENCH_TOKEN is set.
-- BENCH_EXPECT=<text>: count 2xx bodies without <text> (see report.lua).
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
