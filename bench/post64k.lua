-- wrk script: POST a 64 KiB body (echoed back by the CGI script).
wrk.method = "POST"
wrk.body = string.rep("x", 65536)
wrk.headers["Content-Type"] = "application/octet-stream"
