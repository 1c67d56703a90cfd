#!/usr/bin/env python3
"""A CGI script in Python 3: shows its environment, HTML-escaped."""
import html
import os
import sys

rows = ''.join('<tr><td>%s</td><td>%s</td></tr>\n' % (html.escape(k), html.escape(v))
               for k, v in sorted(os.environ.items()))
sys.stdout.write('Content-Type: text/html; charset=utf-8\r\n\r\n'
                 '<!DOCTYPE html>\n<title>CGI environment</title>\n'
                 '<h1>CGI environment</h1>\n<table>\n%s</table>\n'
                 '<p><a href="/">back</a></p>\n' % rows)
