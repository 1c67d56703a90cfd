#!/bin/sh
# An nph- (non-parsed headers) script: it writes the whole response, status line included,
# and the server passes it on untouched.
printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nX-Script: nph\r\n\r\n'
printf 'Written directly to the client at %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
