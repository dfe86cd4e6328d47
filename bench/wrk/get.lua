-- wrk script for make bench: GET with a bearer token.
--   BENCH_TOKEN=<jwt> wrk ... -s bench/wrk/get.lua http://127.0.0.1:PORT/users/me
-- Authorization: Bearer $BENCH_TOKEN (omitted when BENCH_TOKEN is unset or empty).
-- BENCH_EXPECT=<text>: count 2xx bodies without <text> (see report.lua).
-- Prints one "WRK_JSON {...}" line at the end (see report.lua).
local dir = (debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./")
dofile(dir .. "report.lua")

wrk.method = "GET"
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
