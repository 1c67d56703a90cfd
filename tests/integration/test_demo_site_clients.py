"""The demo site (examples/www) with the command-line clients and Python's own: curl as an
HTTP/1.0 client, with a byte range, a conditional GET, binary, chunked and multipart uploads
(stored, pruned, and refused over the limit); wget mirroring files/ through the directory
listings; urllib.request reading the index, posting the form, reading the nph- script and
following the guestbook's 303.

The site is served from a temporary copy of examples/www, to which the tests add an echo
script (cgi-bin/echo.sh: a header block, then `exec cat`) and a larger binary file; the
scripts keep their data in a temporary directory of the test's own.
Proxies are turned off for every client: everything stays on the loopback interface.
"""

import calendar
import email.utils
import hashlib
import html
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

import cgihttp_testlib as lib

ECHO_SCRIPT = b'''#!/bin/sh
# Sends the request body back as it arrived, with what the gateway said about it.
printf 'Content-Type: application/octet-stream\\r\\n'
printf 'X-Content-Length: %s\\r\\nX-Request-Method: %s\\r\\n\\r\\n' \\
    "$CONTENT_LENGTH" "$REQUEST_METHOD"
exec cat
'''


def client_env():
    """The environment for curl and wget: no proxy, no user configuration."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith('_proxy')}
    env['HOME'] = tempfile.gettempdir()  # no ~/.curlrc, ~/.wgetrc
    return env


def fields_of(page):
    """The (name, value) rows of form.py's #fields table, unescaped."""
    table = re.search(r'<table id="fields">\n(.*?)</table>', page, re.S)
    if not table:
        return []
    return [(html.unescape(k), html.unescape(v)) for k, v in re.findall(
        r'<tr><th>(.*?)</th><td>(.*?)</td></tr>\n', table.group(1), re.S)]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


class DemoSiteClientsTest(unittest.TestCase):

    def setUp(self):
        self.www, self.data = lib.copy_demo_site(self)
        self.work = tempfile.mkdtemp(prefix='cgihttp-site-work-')
        self.addCleanup(shutil.rmtree, self.work, True)
        echo = os.path.join(self.www, 'cgi-bin', 'echo.sh')
        with open(echo, 'wb') as f:
            f.write(ECHO_SCRIPT)
        os.chmod(echo, 0o755)
        self.big = os.urandom(3 * 1024 * 1024 + 77)
        with open(os.path.join(self.www, 'big.bin'), 'wb') as f:
            f.write(self.big)
        os.chmod(os.path.join(self.www, 'big.bin'), 0o644)
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def serve(self, *options):
        """Starts the demo on the copy; returns (process, base URL)."""
        return lib.start_demo_site(self, self.www, self.data, *options)

    def curl(self, *args, timeout=30):
        """Runs curl (no configuration file, no proxy); returns CompletedProcess (bytes)."""
        result = subprocess.run([lib.require_tool('curl'), '-q', '--noproxy', '*', '-sS']
                                + [str(a) for a in args], stdin=subprocess.DEVNULL,
                                capture_output=True, timeout=timeout, env=client_env())
        self.assertEqual(result.returncode, 0, result.stderr.decode('utf-8', 'replace'))
        return result

    def curl_response(self, *args):
        """curl with the response head and body in files; returns (status line, header
        fields as a lower-cased dict, body bytes, curl's stderr) of the last response."""
        head, body = os.path.join(self.work, 'head'), os.path.join(self.work, 'body')
        for path in (head, body):
            if os.path.exists(path):
                os.remove(path)
        result = self.curl('-D', head, '-o', body, *args)
        with open(head, 'rb') as f:
            heads = f.read().decode('latin-1').split('\r\n\r\n')
        data = b''
        if os.path.exists(body):  # curl creates no file for an empty body
            with open(body, 'rb') as f:
                data = f.read()
        lines = [h for h in heads if h][-1].split('\r\n')
        fields = dict((k.strip().lower(), v.strip())
                      for k, _, v in (line.partition(':') for line in lines[1:]))
        return lines[0], fields, data, result.stderr.decode('utf-8', 'replace')

    def write(self, name, data):
        path = os.path.join(self.work, name)
        with open(path, 'wb') as f:
            f.write(data)
        return path

    def original(self, *parts):
        with open(os.path.join(self.www, *parts), 'rb') as f:
            return f.read()

    # ---- curl ----

    def test_curl_http10(self):
        readme = self.original('files', 'readme.txt')
        # The demo's default protocol is Python's, HTTP/1.0: the answer says HTTP/1.0, has
        # no keep-alive, and the server closes the connection after it.
        _, base = self.serve()
        status, fields, body, _ = self.curl_response('--http1.0', base + '/files/readme.txt')
        self.assertEqual(status, 'HTTP/1.0 200 OK')
        self.assertEqual(body, readme)
        self.assertEqual(fields['content-length'], str(len(readme)))
        self.assertNotIn('keep-alive', fields.get('connection', '').lower())
        result = self.curl('--http1.0', '-v', '-o', '/dev/null', '-o', '/dev/null',
                           '-w', '%{http_code} %{num_connects}\n',
                           base + '/files/readme.txt', base + '/cgi-bin/hello.sh')
        self.assertEqual(result.stdout, b'200 1\n200 1\n')  # a new connection for each
        data, how = lib.exchange(int(base.rsplit(':', 1)[1]),
                                 b'GET /files/readme.txt HTTP/1.0\r\n\r\n')
        self.assertEqual(how, 'eof')
        self.assertTrue(data.startswith(b'HTTP/1.0 200 OK\r\n'))
        self.assertTrue(data.endswith(b'\r\n\r\n' + readme))

        # With -p HTTP/1.1 the server keeps HTTP/1.1 connections open, but still closes
        # after answering an HTTP/1.0 request (one connection per request for curl).
        _, base11 = self.serve('-p', 'HTTP/1.1')
        result = self.curl('-o', '/dev/null', '-o', '/dev/null', '-w', '%{num_connects}\n',
                           base11 + '/files/readme.txt', base11 + '/files/readme.txt')
        self.assertEqual(result.stdout, b'1\n0\n')  # HTTP/1.1: the connection is reused
        status, _, body, _ = self.curl_response('--http1.0', base11 + '/files/readme.txt')
        self.assertEqual(body, readme)
        data, how = lib.exchange(int(base11.rsplit(':', 1)[1]),
                                 b'GET /files/readme.txt HTTP/1.0\r\n\r\n')
        self.assertEqual(how, 'eof')
        self.assertTrue(data.endswith(b'\r\n\r\n' + readme))

    def test_curl_ranges(self):
        _, base = self.serve('-p', 'HTTP/1.1')
        readme = self.original('files', 'readme.txt')
        status, fields, body, _ = self.curl_response('-r', '2-9', base + '/files/readme.txt')
        self.assertEqual(status, 'HTTP/1.1 206 Partial Content')
        self.assertEqual(body, readme[2:10])
        self.assertEqual(fields['content-range'], 'bytes 2-9/%d' % len(readme))
        self.assertEqual(fields['content-length'], '8')

        cafe = self.original('files', 'un caf\u00e9.txt')
        url = base + '/files/' + urllib.parse.quote('un caf\u00e9.txt')
        status, fields, body, _ = self.curl_response('-r', '3-', url)
        self.assertEqual(status, 'HTTP/1.1 206 Partial Content')
        self.assertEqual(body, cafe[3:])
        self.assertEqual(body.decode('utf-8'), 'caf\u00e9 \u00e0 Z\u00fcrich.\n')
        status, fields, body, _ = self.curl_response('-r', '-7', url)
        self.assertEqual(body, cafe[-7:])
        self.assertEqual(fields['content-range'],
                         'bytes %d-%d/%d' % (len(cafe) - 7, len(cafe) - 1, len(cafe)))

        # A range in the middle of a binary file of several MB.
        status, fields, body, _ = self.curl_response('-r', '1000000-2999999',
                                                     base + '/big.bin')
        self.assertEqual(status, 'HTTP/1.1 206 Partial Content')
        self.assertEqual(fields['content-range'], 'bytes 1000000-2999999/%d' % len(self.big))
        self.assertEqual(hashlib.sha256(body).digest(),
                         hashlib.sha256(self.big[1000000:3000000]).digest())
        # Past the end: 416 with the size.
        status, fields, _, _ = self.curl_response('-r', '%d-' % (len(self.big) + 10),
                                                  base + '/big.bin')
        self.assertEqual(status, 'HTTP/1.1 416 Requested Range Not Satisfiable')
        self.assertEqual(fields['content-range'], 'bytes */%d' % len(self.big))

    def test_curl_if_modified_since(self):
        _, base = self.serve('-p', 'HTTP/1.1')
        url = base + '/files/readme.txt'
        future = email.utils.formatdate(time.time() + 365 * 86400, usegmt=True)
        status, fields, body, stderr = self.curl_response('-v', '-z', future, url)
        self.assertIn('If-Modified-Since: ' + future, stderr)
        self.assertEqual(status, 'HTTP/1.1 304 Not Modified')
        self.assertEqual(body, b'')
        self.assertIn('etag', fields)
        self.assertNotIn('content-length', fields)
        # Modified since a date before the file: the whole file.
        status, fields, body, _ = self.curl_response('-z', 'Mon, 01 Jan 1990 00:00:00 GMT',
                                                     url)
        self.assertEqual(status, 'HTTP/1.1 200 OK')
        self.assertEqual(body, self.original('files', 'readme.txt'))
        # The 304 also works for the answer's own Last-Modified.
        status, _, body, _ = self.curl_response('-z', fields['last-modified'], url)
        self.assertEqual(status, 'HTTP/1.1 304 Not Modified')

    def test_curl_data_binary_to_form(self):
        _, base = self.serve('-p', 'HTTP/1.1')
        body = ('name=caf%C3%A9+%26+%3Cb%3E&lang=C%2B%2B&comment=line1%0D%0Aline2+%3D+%25'
                '&raw=na\u00efve+\u20ac&empty=').encode('utf-8')
        path = self.write('form-body', body)
        status, fields, page, stderr = self.curl_response(
            '-v', '--data-binary', '@' + path, base + '/cgi-bin/form.py?from=query')
        self.assertIn('Content-Length: %d' % len(body), stderr)
        self.assertIn('Content-Type: application/x-www-form-urlencoded', stderr)
        self.assertEqual(status, 'HTTP/1.1 200 OK')
        self.assertEqual(fields['content-type'], 'text/html; charset=utf-8')
        page = page.decode('utf-8')
        self.assertIn('<h2>Received by POST</h2>', page)
        self.assertEqual(fields_of(page), [
            ('from', 'query'), ('name', 'caf\u00e9 & <b>'), ('lang', 'C++'),
            ('comment', 'line1\r\nline2 = %'), ('raw', 'na\u00efve \u20ac'), ('empty', '')])
        self.assertIn('<tr><th>name</th><td>caf\u00e9 &amp; &lt;b&gt;</td></tr>', page)

    def test_curl_data_binary_to_echo(self):
        _, base = self.serve('-p', 'HTTP/1.1')
        # Every byte value, CR LF and blank lines, NULs, and something like a header block.
        data = (bytes(range(256)) * 4096 + b'\r\n\r\nStatus: 500\r\n\r\n\x00\x00\n'
                + os.urandom(100000))
        path = self.write('binary', data)
        status, fields, body, _ = self.curl_response(
            '--data-binary', '@' + path, '-H', 'Content-Type: application/octet-stream',
            base + '/cgi-bin/echo.sh')
        self.assertEqual(status, 'HTTP/1.1 200 OK')
        self.assertEqual(fields['x-request-method'], 'POST')
        self.assertEqual(fields['x-content-length'], str(len(data)))
        self.assertEqual(len(body), len(data))
        self.assertTrue(body == data, 'the echoed bytes differ')

        # An empty body.
        empty = self.write('empty', b'')
        status, fields, body, _ = self.curl_response('--data-binary', '@' + empty,
                                                     base + '/cgi-bin/echo.sh')
        self.assertEqual(status, 'HTTP/1.1 200 OK')
        self.assertEqual(fields['x-content-length'], '0')
        self.assertEqual(body, b'')

    def test_curl_chunked_upload(self):
        _, base = self.serve('-p', 'HTTP/1.1')
        data = os.urandom(7 * 1024 * 1024 + 12345)
        path = self.write('chunked', data)
        status, fields, body, stderr = self.curl_response(
            '-v', '-H', 'Transfer-Encoding: chunked', '--data-binary', '@' + path,
            base + '/cgi-bin/echo.sh')
        self.assertIn('> Transfer-Encoding: chunked', stderr)
        self.assertNotIn('> Content-Length', stderr)
        self.assertEqual(status, 'HTTP/1.1 200 OK')
        # The gateway decoded the chunks, and told the script the real length.
        self.assertEqual(fields['x-content-length'], str(len(data)))
        self.assertEqual(len(body), len(data))
        self.assertEqual(hashlib.sha256(body).hexdigest(), hashlib.sha256(data).hexdigest())

    def test_curl_multipart_uploads_are_stored_and_bounded(self):
        _, base = self.serve('-p', 'HTTP/1.1')
        uploads = os.path.join(self.data, 'uploads')
        digests = []
        for i in range(22):  # two more than upload.py keeps
            data = b'upload %d\n' % i + os.urandom(1000 + i)
            digests.append(hashlib.sha256(data).hexdigest())
            path = self.write('part%d.bin' % i, data)
            status, _, page, _ = self.curl_response('-F', 'file=@%s' % path,
                                                    base + '/cgi-bin/upload.py')
            self.assertEqual(status, 'HTTP/1.1 200 OK')
            self.assertIn('<td class="name">part%d.bin</td><td class="size">%d</td>'
                          '<td class="sha256">%s</td>' % (i, len(data), digests[-1]),
                          page.decode('utf-8'))
            with open(os.path.join(uploads, digests[-1]), 'rb') as f:
                self.assertEqual(f.read(), data)
            time.sleep(0.01)  # distinct modification times: the oldest go first
        self.assertEqual(sorted(os.listdir(uploads)), sorted(digests[-20:]))

        # Over the limit: refused before reading, and the client still gets the answer.
        status, _, page, _ = self.curl_response(
            '-H', 'Content-Type: multipart/form-data; boundary=x', '-H',
            'Content-Length: %d' % (64 * 1024 * 1024 + 1), '--data-binary', '', '-H', 'Expect:',
            base + '/cgi-bin/upload.py')
        self.assertEqual(status, 'HTTP/1.1 413 Content Too Large')
        self.assertIn(b'Uploads are limited', page)

        # The scripts' shared module is neither run nor sent.
        status, _, page, _ = self.curl_response(base + '/cgi-bin/demo_data.py')
        self.assertEqual(status,
                         "HTTP/1.1 403 CGI script is not executable ('/cgi-bin/demo_data.py')")
        self.assertNotIn(b'def data_directory', page)

    # ---- wget ----

    def test_wget_mirror_of_files(self):
        wget = lib.require_tool('wget')
        _, base = self.serve('-p', 'HTTP/1.1')
        mirror = os.path.join(self.work, 'mirror')
        result = subprocess.run(
            [wget, '--no-config', '--no-proxy', '-e', 'robots=off', '-r', '-np', '-nH',
             '-nv', '-P', mirror, base + '/files/'],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=30, env=client_env())
        self.assertEqual(result.returncode, 0, result.stderr.decode('utf-8', 'replace'))
        # -np: nothing from above files/.
        self.assertEqual(os.listdir(mirror), ['files'])

        def tree(top):
            found = {}
            top = os.fsencode(top)
            for dirpath, _, filenames in os.walk(top):
                for name in filenames:
                    with open(os.path.join(dirpath, name), 'rb') as f:
                        found[os.path.relpath(os.path.join(dirpath, name), top)] = f.read()
            return found
        original = tree(os.path.join(self.www, 'files'))
        mirrored = tree(os.path.join(mirror, 'files'))
        # wget saves each directory listing it went through as DIR/index.html.
        listings = {name: mirrored.pop(name) for name in list(mirrored)
                    if os.path.basename(name) == b'index.html' and name not in original}
        self.assertEqual(sorted(listings), [b'index.html', b'nested/index.html'])
        self.assertIn(b'<title>Directory listing for /files/</title>',
                      listings[b'index.html'])
        self.assertIn(b'<title>Directory listing for /files/nested/</title>',
                      listings[b'nested/index.html'])
        self.assertEqual(sorted(mirrored), sorted(original))
        self.assertIn('un caf\u00e9.txt'.encode('utf-8'), mirrored)
        for name, data in original.items():
            self.assertEqual(mirrored[name], data, name)

    # ---- urllib.request ----

    def test_urllib_index(self):
        _, base = self.serve()
        with self.opener.open(base + '/', timeout=10) as response:
            body = response.read()
            self.assertEqual(response.status, 200)
            self.assertEqual(response.headers['Content-Type'], 'text/html')
            self.assertEqual(int(response.headers['Content-Length']), len(body))
            self.assertIn('ETag', response.headers)
        self.assertEqual(body, self.original('index.html'))

    def test_urllib_post_to_form(self):
        _, base = self.serve('-p', 'HTTP/1.1')
        sent = [('name', 'Gr\u00e2ce <Hopper> & co'), ('lang', 'C++'),
                ('comment', '50% + "quotes" \'too\'\nnew line')]
        request = urllib.request.Request(base + '/cgi-bin/form.py',
                                         data=urllib.parse.urlencode(sent).encode('ascii'))
        with self.opener.open(request, timeout=10) as response:
            self.assertEqual(response.status, 200)
            self.assertEqual(response.headers['Content-Type'], 'text/html; charset=utf-8')
            page = response.read().decode('utf-8')
        self.assertIn('<h2>Received by POST</h2>', page)
        self.assertEqual(fields_of(page), sent)
        self.assertIn('<td>Gr\u00e2ce &lt;Hopper&gt; &amp; co</td>', page)

    def test_urllib_nph_script(self):
        _, base = self.serve('-p', 'HTTP/1.1')
        before = time.time()
        with self.opener.open(base + '/cgi-bin/nph-clock.sh', timeout=10) as response:
            # The script's own status line and header block, untouched: its HTTP/1.0, its
            # two header fields and nothing added by the server.
            self.assertEqual((response.version, response.status, response.reason),
                             (10, 200, 'OK'))
            self.assertEqual(response.headers.items(),
                             [('Content-Type', 'text/plain'), ('X-Script', 'nph')])
            body = response.read().decode('ascii')
        match = re.fullmatch(r'Written directly to the client at '
                             r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC\n', body)
        self.assertTrue(match, body)
        written = calendar.timegm(time.strptime(match.group(1), '%Y-%m-%d %H:%M:%S'))
        self.assertLess(abs(written - before), 30)

    def test_urllib_guestbook_303(self):
        proc, base = self.serve('-p', 'HTTP/1.1')
        token = 'site-test-%s' % uuid.uuid4().hex[:12]
        url = base + '/cgi-bin/guestbook.py'

        # Not followed: the script's Status: 303 and Location, and no body.
        message = '%s one <two> & three' % token
        request = urllib.request.Request(
            url, data=urllib.parse.urlencode({'message': message}).encode())
        no_redirect = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)
        with self.assertRaises(urllib.error.HTTPError) as caught:
            no_redirect.open(request, timeout=10)
        with caught.exception as response:
            self.assertEqual((response.code, response.reason), (303, 'See Other'))
            self.assertEqual(response.headers['Location'], '/cgi-bin/guestbook.py')
            self.assertEqual(response.read(), b'')

        # Followed by urllib: a GET of the Location, which lists the entries.
        message2 = '%s second' % token
        request = urllib.request.Request(
            url, data=urllib.parse.urlencode({'message': message2}).encode())
        with self.opener.open(request, timeout=10) as response:
            self.assertEqual(response.status, 200)
            self.assertEqual(response.url, url)
            page = response.read().decode('utf-8')
        entries = [html.unescape(e) for e in re.findall(r'<li>(.*?)</li>', page)]
        self.assertEqual(entries.count(message), 1)
        self.assertEqual(entries.count(message2), 1)
        self.assertIn('<li>%s one &lt;two&gt; &amp; three</li>' % token, page)
        proc.stderr.wait_for(lambda text: text.count('"GET /cgi-bin/guestbook.py ') >= 1, 10)
        self.assertEqual(re.findall(r'"([A-Z]+) (\S+) HTTP/1\.1" (\d+)', proc.stderr.text()), [
            ('POST', '/cgi-bin/guestbook.py', '303'),
            ('POST', '/cgi-bin/guestbook.py', '303'),
            ('GET', '/cgi-bin/guestbook.py', '200')])


if __name__ == '__main__':
    unittest.main()
