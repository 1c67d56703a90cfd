#!/usr/bin/env python3
"""A multipart/form-data upload: reports each file's name, size and SHA-256. Nothing is
stored, so a public demo cannot be used to fill the disk."""
import email.parser
import email.policy
import hashlib
import html
import os
import sys

page = ('<form method="post" action="upload.py" enctype="multipart/form-data" id="upload">'
        '<input type="file" name="file" id="file"> <button type="submit">Upload</button>'
        '</form>')
report = ''
if os.environ.get('REQUEST_METHOD') == 'POST':
    length = int(os.environ.get('CONTENT_LENGTH') or 0)
    head = 'Content-Type: %s\r\n\r\n' % os.environ.get('CONTENT_TYPE', '')
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        head.encode('latin-1') + sys.stdin.buffer.read(length))
    rows = []
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_filename()
        if not name:
            continue
        data = part.get_payload(decode=True) or b''
        rows.append('<tr><td class="name">%s</td><td class="size">%d</td>'
                    '<td class="sha256">%s</td></tr>' % (
                        html.escape(name), len(data), hashlib.sha256(data).hexdigest()))
    report = ('<table id="uploaded"><tr><th>name</th><th>bytes</th><th>SHA-256</th></tr>%s'
              '</table>' % ''.join(rows)) if rows else '<p>No file was sent.</p>'
sys.stdout.write('Content-Type: text/html; charset=utf-8\r\n\r\n<!DOCTYPE html>\n'
                 '<title>Upload</title>\n<h1>Upload a file</h1>\n%s\n%s\n'
                 '<p><a href="/">back</a></p>\n' % (report, page))
