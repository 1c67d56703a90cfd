#!/usr/bin/env python3
"""Post/Redirect/Get: a POST stores the entry and answers 303 See Other, so a reload of the
resulting page does not post again (Python's own server cannot send a 303 from a script)."""
import html
import os
import sys
import tempfile
import urllib.parse

book = os.path.join(tempfile.gettempdir(), 'cgihttp-guestbook.txt')
if os.environ.get('REQUEST_METHOD') == 'POST':
    length = int(os.environ.get('CONTENT_LENGTH') or 0)
    entry = dict(urllib.parse.parse_qsl(sys.stdin.buffer.read(length).decode('utf-8', 'replace')))
    with open(book, 'a', encoding='utf-8') as f:
        f.write(entry.get('message', '').replace('\n', ' ')[:200] + '\n')
    sys.stdout.write('Status: 303 See Other\r\nLocation: /cgi-bin/guestbook.py\r\n\r\n')
    sys.exit(0)
try:
    with open(book, encoding='utf-8') as f:
        entries = f.read().splitlines()
except FileNotFoundError:
    entries = []
items = ''.join('<li>%s</li>' % html.escape(e) for e in entries)
sys.stdout.write('Content-Type: text/html; charset=utf-8\r\n\r\n<!DOCTYPE html>\n'
                 '<title>Guestbook</title>\n<h1>Guestbook</h1>\n<ol id="entries">%s</ol>\n'
                 '<form method="post" action="guestbook.py" id="sign"><input name="message">'
                 '<button type="submit">Sign</button></form>\n<p><a href="/">back</a></p>\n'
                 % items)
