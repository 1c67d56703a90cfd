#!/usr/bin/env python3
"""Post/Redirect/Get: a POST stores the entry and answers 303 See Other, so a reload of the
resulting page does not post again (Python's own server cannot send a 303 from a script).

Entries live in $CGIHTTP_DEMO_DATA/guestbook.txt, or in a directory private to the user the
script runs as; only the last MAX_ENTRIES are kept, so visitors cannot fill the disk."""
import fcntl
import html
import os
import sys
import tempfile
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the served tree
import demo_data  # noqa: E402 (after the line above)

MAX_ENTRIES = 50


def read_entries(book):
    try:
        with open(book, encoding='utf-8') as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


book = os.path.join(demo_data.data_directory(), 'guestbook.txt')
if os.environ.get('REQUEST_METHOD') == 'POST':
    length = int(os.environ.get('CONTENT_LENGTH') or 0)
    entry = dict(urllib.parse.parse_qsl(sys.stdin.buffer.read(length).decode('utf-8', 'replace')))
    # Concurrent signers take turns; the new book is renamed over the old one, so a reader
    # never sees half a file.
    with open(book + '.lock', 'a') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        entries = read_entries(book) + [' '.join(entry.get('message', '').split())[:200]]
        with tempfile.NamedTemporaryFile('w', encoding='utf-8', dir=os.path.dirname(book),
                                         delete=False) as f:
            f.write(''.join(e + '\n' for e in entries[-MAX_ENTRIES:]))
        os.replace(f.name, book)
    sys.stdout.write('Status: 303 See Other\r\nLocation: /cgi-bin/guestbook.py\r\n\r\n')
    sys.exit(0)
items = ''.join('<li>%s</li>' % html.escape(e) for e in read_entries(book))
sys.stdout.write('Content-Type: text/html; charset=utf-8\r\n\r\n<!DOCTYPE html>\n'
                 '<title>Guestbook</title>\n<h1>Guestbook</h1>\n<ol id="entries">%s</ol>\n'
                 '<form method="post" action="guestbook.py" id="sign"><input name="message">'
                 '<button type="submit">Sign</button></form>\n<p><a href="/">back</a></p>\n'
                 % items)
