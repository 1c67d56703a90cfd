#!/usr/bin/env python3
"""A form submitted by GET and by POST (urlencoded); shows the decoded fields."""
import html
import os
import sys
import urllib.parse

method = os.environ.get('REQUEST_METHOD', 'GET')
fields = urllib.parse.parse_qsl(os.environ.get('QUERY_STRING', ''), keep_blank_values=True)
if method == 'POST':
    length = int(os.environ.get('CONTENT_LENGTH') or 0)
    body = sys.stdin.buffer.read(length).decode('utf-8', 'replace')
    fields += urllib.parse.parse_qsl(body, keep_blank_values=True)

rows = ''.join('<tr><th>%s</th><td>%s</td></tr>\n' % (html.escape(k), html.escape(v))
               for k, v in fields)
result = ('<h2>Received by %s</h2>\n<table id="fields">\n%s</table>\n' % (method, rows)
          if fields else '')
form = '''<form method="%s" action="form.py" id="%s">
<fieldset><legend>%s</legend>
<label>Name <input name="name" value="Ada"></label>
<label>Language <select name="lang"><option>C++</option><option>Python</option></select></label>
<label>Comment <input name="comment" value="a &amp; b &lt;c&gt;"></label>
<button type="submit">Send by %s</button></fieldset></form>'''
sys.stdout.write('Content-Type: text/html; charset=utf-8\r\n\r\n'
                 '<!DOCTYPE html>\n<title>Forms</title>\n<h1>Forms</h1>\n%s%s\n%s\n'
                 '<p><a href="/">back</a></p>\n' % (
                     result, form % ('get', 'get-form', 'GET', 'GET'),
                     form % ('post', 'post-form', 'POST (urlencoded)', 'POST')))
