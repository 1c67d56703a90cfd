#!/bin/sh
# Sets a cookie counting the visits and shows the one the browser sent back.
visits=$(printf '%s' "$HTTP_COOKIE" | tr ';' '\n' | sed -n 's/^ *visits=\([0-9]*\)$/\1/p')
visits=${visits:-0}
printf 'Content-Type: text/html; charset=utf-8\r\n'
printf 'Set-Cookie: visits=%d; Path=/; SameSite=Lax\r\n\r\n' $((visits + 1))
printf '<!DOCTYPE html>\n<title>Cookie</title>\n<h1>Cookie</h1>\n'
printf '<p id="visits">The browser sent visits=%d.</p>\n' "$visits"
printf '<p><a href="cookie.sh">again</a> <a href="/">back</a></p>\n'
