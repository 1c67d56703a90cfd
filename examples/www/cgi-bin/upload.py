#!/usr/bin/env python3
"""A multipart/form-data upload: each file is stored in the demo's data directory (see
demo_data.py) under uploads/<SHA-256>, and its name, size and SHA-256 are reported. Bounded
so that a public demo cannot fill the disk: at most MAX_REQUEST bytes per upload (413
beyond), and only the last MAX_FILES files are kept."""
import email.parser
import email.policy
import hashlib
import html
import os
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the served tree
import demo_data  # noqa: E402 (after the line above)

MAX_REQUEST = 64 * 1024 * 1024
MAX_FILES = 20


def store(uploads, data, digest):
    """Writes the file whole or not at all, then drops the oldest beyond MAX_FILES."""
    with tempfile.NamedTemporaryFile(dir=uploads, prefix='.part-', delete=False) as f:
        f.write(data)
    os.replace(f.name, os.path.join(uploads, digest))
    stored = sorted((e for e in os.scandir(uploads) if not e.name.startswith('.')),
                    key=lambda e: e.stat().st_mtime, reverse=True)
    for old in stored[MAX_FILES:]:
        try:
            os.unlink(old.path)
        except FileNotFoundError:  # another upload pruned it first
            pass


page = ('<form method="post" action="upload.py" enctype="multipart/form-data" id="upload">'
        '<input type="file" name="file" id="file"> <button type="submit">Upload</button>'
        '</form>')
report = ''
if os.environ.get('REQUEST_METHOD') == 'POST':
    length = int(os.environ.get('CONTENT_LENGTH') or 0)
    if length > MAX_REQUEST:
        sys.stdout.write('Status: 413 Content Too Large\r\nContent-Type: text/plain\r\n\r\n'
                         'Uploads are limited to %d bytes.\n' % MAX_REQUEST)
        sys.exit(0)
    head = 'Content-Type: %s\r\n\r\n' % os.environ.get('CONTENT_TYPE', '')
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        head.encode('latin-1') + sys.stdin.buffer.read(length))
    uploads = os.path.join(demo_data.data_directory(), 'uploads')
    os.makedirs(uploads, 0o700, exist_ok=True)
    rows = []
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_filename()
        if not name:
            continue
        data = part.get_payload(decode=True) or b''
        digest = hashlib.sha256(data).hexdigest()
        store(uploads, data, digest)
        rows.append('<tr><td class="name">%s</td><td class="size">%d</td>'
                    '<td class="sha256">%s</td></tr>' % (html.escape(name), len(data), digest))
    report = ('<table id="uploaded"><tr><th>name</th><th>bytes</th><th>SHA-256</th></tr>%s'
              '</table><p>Stored as uploads/&lt;SHA-256&gt; in the demo\'s data directory; '
              'the last %d files are kept.</p>' % (''.join(rows), MAX_FILES)
              if rows else '<p>No file was sent.</p>')
sys.stdout.write('Content-Type: text/html; charset=utf-8\r\n\r\n<!DOCTYPE html>\n'
                 '<title>Upload</title>\n<h1>Upload a file</h1>\n%s\n%s\n'
                 '<p><a href="/">back</a></p>\n' % (report, page))
