#!/bin/sh
# A CGI script in POSIX shell: a header block, an empty line, then the body.
printf 'Content-Type: text/html; charset=utf-8\r\n\r\n'
cat <<PAGE
<!DOCTYPE html>
<title>Hello from sh</title>
<h1>Hello from a shell script</h1>
<p>Running as user $(id -un) in $(pwd), for a $REQUEST_METHOD of $SCRIPT_NAME.</p>
<p><a href="/">back</a></p>
PAGE
