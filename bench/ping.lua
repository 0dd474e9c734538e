-- wrk script of bench/http-bench: an authenticated page ping to hourglassd,
-- POST /api/ping {"idle":0}, with what the request gate wants (an allowed
-- Host, Origin http://HOST, Content-Type application/json) and the
-- session cookie. From the environment:
--   HG_HOST    127.0.0.1:PORT
--   HG_COOKIE  hourglass_session=TOKEN
local host = os.getenv("HG_HOST")
local cookie = os.getenv("HG_COOKIE")

if not host or not cookie then
  io.stderr:write("ping.lua: set HG_HOST and HG_COOKIE\n")
  os.exit(2)
end

wrk.method = "POST"
wrk.body = '{"idle":0}'
wrk.headers["Host"] = host
wrk.headers["Origin"] = "http://" .. host
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = cookie
