"""HTTPS: cgihttp's TLS layer over loopback, with certificates made by the openssl command
at test time (an EC P-256 self-signed certificate for localhost and 127.0.0.1, its key in
clear, an AES-encrypted copy with a password file, and the certificate and key in one PEM).

Against `cgihttp_test_server cgi --directory DIR --tls-cert ... --tls-key ...`, whose
site (files, an 8 MiB random file, a directory, CGI scripts) is written by the tests:
- curl --cacert: static files, byte ranges, the 8 MiB file (TLS sends files through a
  buffer, not sendfile), directory listings and the redirect of a directory without a
  slash, a chunked upload, ALPN as curl reports it;
- http.client over TLS: 20+ requests (files, If-Range, CGI, uploads) on one kept-alive
  connection; the CGI environment (REQUEST_SCHEME=https, HTTPS=on, SERVER_PORT); chunked
  and Content-Length uploads of several MiB (the latter reaching the script while it runs);
- ALPN (http/1.1 chosen from h2 and http/1.1; none for h2 alone, HTTP/1.1 still served);
  TLS 1.2 as the oldest version; close_notify at the end of a closing response;
- faults that end only their own connection and are logged: plain HTTP on the HTTPS port
  (answered in clear text with a 400), garbage instead of a ClientHello, a client that
  leaves while its CGI script runs (the script is stopped), a handshake that never ends
  (closed after --handshake-ms while other clients are served); then the server holds no
  more descriptors than before and has no zombie children;
- 64 TLS clients at once for 3 s (files, ranges, CGI uploads), every answer checked, and
  --max-connections over TLS (closed, no clear-text 503).
The demo cgihttpserver with Python 3.14's --tls-cert/--tls-key/--tls-password-file (and
their errors), and the embedding example https_server."""

import glob
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import ssl
import tempfile
import threading
import time
import unittest
import uuid
import warnings

import cgihttp_testlib as lib
from cgihttp_testlib import (fd_targets, settled_fd_count, stable_fd_count,
                             wait_for_processes, zombie_children)

RUN = uuid.uuid4().hex[:12]  # makes this run's process markers unique on the machine
PASSWORD = 'tls-test-%s' % RUN
BIG_SIZE = 8 * 1024 * 1024
UPLOAD_SIZE = 3 * 1024 * 1024 + 12345
HELLO = b'hello over TLS\n'
ALPHABET = bytes(range(256)) * 4


def marker(name):
    return 'httpsmark-%s-%s' % (RUN, name)


class Certificates:
    """Paths of the PEM files made by setUpModule()."""
    directory = cert = key = encrypted_key = password_file = wrong_password_file = None
    combined = None
    renewed_cert = renewed_key = None  # a second identity, for reloading


CERTS = Certificates()


# The programs under test, as lib.binary() finds them under build/*/ when run by hand.
PROGRAMS = {'CGIHTTP_TEST_SERVER': 'tests/cgihttp_test_server',
            'CGIHTTP_DEMO': 'examples/cgihttpserver',
            'CGIHTTP_HTTPS_SERVER': 'examples/https_server'}
_chosen = []


def links_openssl(path):
    try:
        with open(path, 'rb') as f:
            return b'libssl.so' in f.read()
    except OSError:
        return False


def choose_tls_builds():
    """Run by hand (no CGIHTTP_* from CTest), lib.binary() takes the newest build under
    build/*/, which may be one without TLS (CGIHTTP_TLS=OFF): names in the environment
    the newest build of each program that links OpenSSL, if any, for this module's run."""
    for name, relative in PROGRAMS.items():
        if os.environ.get(name):
            continue
        found = [p for p in glob.glob(os.path.join(lib.REPO, 'build', '*', relative))
                 if os.access(p, os.X_OK) and links_openssl(p)]
        if found:
            os.environ[name] = max(found, key=os.path.getmtime)
            _chosen.append(name)


def setUpModule():
    if os.environ.get('CGIHTTP_TLS') == '0':
        raise unittest.SkipTest('this build has no HTTPS (CGIHTTP_TLS=0)')
    choose_tls_builds()
    openssl = lib.require_tool('openssl')
    directory = tempfile.mkdtemp(prefix='cgihttp-tls-')
    os.chmod(directory, 0o755)
    CERTS.directory = directory
    CERTS.cert = os.path.join(directory, 'cert.pem')
    CERTS.key = os.path.join(directory, 'key.pem')
    CERTS.encrypted_key = os.path.join(directory, 'key-aes.pem')
    CERTS.password_file = os.path.join(directory, 'password.txt')
    CERTS.wrong_password_file = os.path.join(directory, 'wrong-password.txt')
    CERTS.combined = os.path.join(directory, 'combined.pem')
    CERTS.renewed_cert = os.path.join(directory, 'renewed-cert.pem')
    CERTS.renewed_key = os.path.join(directory, 'renewed-key.pem')
    # The trailing newline is part of the file, not of the password: it is stripped as
    # Python's http.server strips it (and as openssl's file: source reads one line).
    with open(CERTS.password_file, 'w') as f:
        f.write(PASSWORD + '\n')
    with open(CERTS.wrong_password_file, 'w') as f:
        f.write('not-' + PASSWORD + '\n')
    commands = [
        [openssl, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
         '-nodes', '-keyout', CERTS.key, '-out', CERTS.cert, '-days', '2',
         '-subj', '/CN=localhost',
         '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
        [openssl, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
         '-nodes', '-keyout', CERTS.renewed_key, '-out', CERTS.renewed_cert, '-days', '2',
         '-subj', '/CN=localhost',
         '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
        [openssl, 'pkey', '-in', CERTS.key, '-aes-256-cbc',
         '-passout', 'file:' + CERTS.password_file, '-out', CERTS.encrypted_key],
    ]
    for argv in commands:
        result = lib.run_program(argv, timeout=30)
        if result.returncode != 0:
            shutil.rmtree(directory, True)
            raise AssertionError('%s failed: %s' % (' '.join(argv), result.stderr))
    with open(CERTS.combined, 'wb') as out:
        for path in (CERTS.cert, CERTS.key):
            with open(path, 'rb') as f:
                out.write(f.read())
    with open(CERTS.encrypted_key) as f:
        if 'ENCRYPTED' not in f.read():
            raise AssertionError('openssl did not encrypt the key')


def tearDownModule():
    for name in _chosen:
        os.environ.pop(name, None)
    if CERTS.directory:
        shutil.rmtree(CERTS.directory, True)


def client_context(alpn=None):
    """A client context that trusts only the test certificate and checks host names."""
    context = ssl.create_default_context(cafile=CERTS.cert)
    if alpn is not None:
        context.set_alpn_protocols(alpn)
    return context


# ---------------------------------------------------------------------------------------
# curl

class CurlResult:
    def __init__(self, returncode, status, fields, body, stderr, stdout):
        self.returncode, self.status, self.fields = returncode, status, fields
        self.body, self.stderr, self.stdout = body, stderr, stdout

    def header(self, name, default=None):
        for field, value in self.fields:
            if field.lower() == name.lower():
                return value
        return default

    def __repr__(self):
        return 'CurlResult(exit %d, %r, %r, body %r, stderr %r)' % (
            self.returncode, self.status, self.fields, self.body[:200], self.stderr[-2000:])


def curl(port, path, *options, host='localhost', timeout=30):
    """curl --cacert CERT https://HOST:PORT/PATH (localhost resolved to 127.0.0.1 by
    --resolve, so the certificate's DNS name is checked). The status and fields are those
    of the final response (after any 100 Continue)."""
    program = lib.require_tool('curl')
    with tempfile.TemporaryDirectory(prefix='cgihttp-curl-') as tmp:
        head_file, body_file = os.path.join(tmp, 'head'), os.path.join(tmp, 'body')
        argv = [program, '-sS', '--max-time', str(timeout - 5), '--cacert', CERTS.cert,
                '--resolve', 'localhost:%d:127.0.0.1' % port, '-D', head_file,
                '-o', body_file] + list(options) + ['https://%s:%d%s' % (host, port, path)]
        result = lib.run_program(argv, timeout=timeout)
        head = body = b''
        if os.path.exists(head_file):
            with open(head_file, 'rb') as f:
                head = f.read()
        if os.path.exists(body_file):
            with open(body_file, 'rb') as f:
                body = f.read()
    status, fields = None, []
    blocks = [b for b in head.split(b'\r\n\r\n') if b.strip()]
    if blocks:
        lines = blocks[-1].decode('latin-1').split('\r\n')
        status = int(lines[0].split()[1])
        fields = [(n.strip(), v.strip()) for n, _, v in (line.partition(':')
                                                         for line in lines[1:])]
    return CurlResult(result.returncode, status, fields, body, result.stderr, result.stdout)


# ---------------------------------------------------------------------------------------
# The site served by cgihttp_test_server

SH = '#!/bin/sh\n'
PY = '#!/usr/bin/env python3\n'
SCRIPTS = {
    'env.py': PY + "import json, os, sys\n"
                   "body = json.dumps(dict(os.environ)).encode()\n"
                   "sys.stdout.buffer.write(b'Content-Type: application/json\\r\\n'\n"
                   "    b'Content-Length: %d\\r\\n\\r\\n' % len(body) + body)\n",
    'upload.py': PY + "import hashlib, os, sys\nh = hashlib.sha256()\nn = 0\n"
                      "while True:\n"
                      "    b = sys.stdin.buffer.read(65536)\n"
                      "    if not b:\n        break\n"
                      "    h.update(b)\n    n += len(b)\n"
                      "sys.stdout.write('Content-Type: text/plain\\r\\n\\r\\n'\n"
                      "    'sha256=%s\\nread=%d\\ncontent_length=%s\\n'\n"
                      "    % (h.hexdigest(), n, os.environ.get('CONTENT_LENGTH')))\n",
    'sleep.sh': SH + "exec python3 -c 'import time; time.sleep(60)' %s\n" % marker('gone'),
}


def make_site(testcase_class):
    """A served directory (removed at class cleanup) readable by nobody, who runs the
    scripts when the tests run as root. Returns (root, bytes of big.bin)."""
    root = os.path.realpath(tempfile.mkdtemp(prefix='cgihttp-https-'))
    testcase_class.addClassCleanup(shutil.rmtree, root, True)
    os.chmod(root, 0o755)
    for sub in ('cgi-bin', 'sub', 'spool'):
        os.mkdir(os.path.join(root, sub))
        os.chmod(os.path.join(root, sub), 0o755)
    big = random.Random(RUN).randbytes(BIG_SIZE)
    files = {'hello.txt': HELLO, 'alphabet.bin': ALPHABET, 'big.bin': big,
             'sub/one.txt': b'one\n', 'sub/two.txt': b'two\n'}
    for name, data in files.items():
        with open(os.path.join(root, name), 'wb') as f:
            f.write(data)
        os.chmod(os.path.join(root, name), 0o644)
    for name, text in SCRIPTS.items():
        path = os.path.join(root, 'cgi-bin', name)
        with open(path, 'w') as f:
            f.write(text)
        os.chmod(path, 0o755)
    return root, big


def upload_result(digest, size):
    return 'sha256=%s\nread=%d\ncontent_length=%d\n' % (digest, size, size)


class HTTPSCase(unittest.TestCase):
    server = port = None

    def https(self, timeout=20.0, context=None):
        """An http.client connection to 127.0.0.1 (checked against the certificate's IP
        address), closed at cleanup."""
        con = http.client.HTTPSConnection(lib.LOCALHOST, self.port, timeout=timeout,
                                          context=context or client_context())
        self.addCleanup(con.close)
        return con

    def tls_socket(self, context=None, **options):
        """A TLS socket (handshake done) to the server, closed at cleanup."""
        raw = lib.connect(self.port, timeout=10.0)
        try:
            sock = (context or client_context()).wrap_socket(raw, server_hostname='localhost',
                                                             **options)
        except BaseException:
            raw.close()
            raise
        self.addCleanup(sock.close)
        return sock

    def get_over(self, sock, path='/hello.txt'):
        """One HTTP/1.1 request on a TLS socket; returns the response (read whole)."""
        sock.sendall(b'GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n' % path.encode())
        return lib.ResponseReader(sock, timeout=10).read_response()

    def log_position(self):
        return len(self.server.stderr.text())

    def assertLogged(self, text, since, count=1, timeout=5.0):
        found = self.server.stderr.wait_for(lambda log: log[since:].count(text) >= count,
                                            timeout)
        self.assertTrue(found, 'server log lacks %d x %r:\n%s'
                        % (count, text, self.server.stderr.text()[since:][-3000:]))

    def assertServes(self):
        """A fresh HTTPS connection still gets a file: the server is healthy."""
        con = self.https()
        con.request('GET', '/hello.txt')
        res = con.getresponse()
        self.assertEqual((res.status, res.read()), (200, HELLO))
        con.close()
        self.assertTrue(self.server.running())

    def assertNoZombies(self, timeout=3.0):
        deadline = time.monotonic() + timeout
        while True:
            zombies = zombie_children(self.server.pid)
            if not zombies or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(zombies, [], 'zombie children of the server')


def start_https_server(testcase_class, root, *options):
    server = lib.ServerProcess([lib.binary('CGIHTTP_TEST_SERVER'), 'cgi', '--directory', root,
                                '--protocol', 'HTTP/1.1', '--tls-cert', CERTS.cert,
                                '--tls-key', CERTS.key] + list(options),
                               ready=r'PORT (\d+)\n')
    testcase_class.addClassCleanup(server.stop)
    return server, int(server.ready_match.group(1))


class HTTPSServerTest(HTTPSCase):
    """One HTTPS server for every test; the last test checks its descriptors and children
    against the baseline taken after a warm-up."""

    @classmethod
    def setUpClass(cls):
        cls.root, cls.big = make_site(cls)
        cls.server, cls.port = start_https_server(cls, cls.root)
        # Warm-up: what the server opens once and keeps (the served files, in its cache of
        # open files) is part of the baseline.
        con = http.client.HTTPSConnection(lib.LOCALHOST, cls.port, timeout=20,
                                          context=client_context())
        try:
            for method, path, body in [('GET', '/hello.txt', None), ('GET', '/sub/', None),
                                       ('GET', '/big.bin', None), ('GET', '/alphabet.bin', None),
                                       ('GET', '/cgi-bin/env.py', None),
                                       ('POST', '/cgi-bin/upload.py', b'x' * 100000)]:
                con.request(method, path, body=body)
                res = con.getresponse()
                res.read()
                if res.status != 200:
                    raise AssertionError('warm-up %s %s: %d' % (method, path, res.status))
        finally:
            con.close()
        cls.baseline = stable_fd_count(cls.server.pid)
        cls.baseline_targets = fd_targets(cls.server.pid)

    # ---- curl

    def test_curl_static_file_and_range(self):
        r = curl(self.port, '/hello.txt')
        self.assertEqual((r.returncode, r.status, r.body), (0, 200, HELLO), r)
        self.assertEqual(r.header('Content-Length'), str(len(HELLO)))
        r = curl(self.port, '/alphabet.bin', '-r', '100-355')
        self.assertEqual((r.returncode, r.status), (0, 206), r)
        self.assertEqual(r.body, ALPHABET[100:356])
        self.assertEqual(r.header('Content-Range'), 'bytes 100-355/%d' % len(ALPHABET))
        # The certificate's IP address entry, without --resolve.
        r = curl(self.port, '/hello.txt', host='127.0.0.1')
        self.assertEqual((r.returncode, r.status, r.body), (0, 200, HELLO), r)

    def test_curl_big_file(self):
        r = curl(self.port, '/big.bin')
        self.assertEqual((r.returncode, r.status), (0, 200), r)
        self.assertEqual(len(r.body), BIG_SIZE)
        self.assertEqual(hashlib.sha256(r.body).hexdigest(), hashlib.sha256(self.big).hexdigest())
        first, last = 1000001, 5 * 1024 * 1024 + 7
        r = curl(self.port, '/big.bin', '-r', '%d-%d' % (first, last))
        self.assertEqual((r.returncode, r.status), (0, 206), r)
        self.assertEqual(r.header('Content-Range'), 'bytes %d-%d/%d' % (first, last, BIG_SIZE))
        self.assertEqual(hashlib.sha256(r.body).hexdigest(),
                         hashlib.sha256(self.big[first:last + 1]).hexdigest())

    def test_curl_directory_listing_and_redirect(self):
        r = curl(self.port, '/sub/')
        self.assertEqual((r.returncode, r.status), (0, 200), r)
        page = r.body.decode()
        self.assertIn('Directory listing for /sub/', page)
        self.assertIn('<a href="one.txt">one.txt</a>', page)
        self.assertIn('<a href="two.txt">two.txt</a>', page)
        r = curl(self.port, '/sub')
        self.assertEqual((r.returncode, r.status), (0, 301), r)
        self.assertEqual(r.header('Location'), '/sub/')

    def test_curl_chunked_upload(self):
        payload = os.urandom(UPLOAD_SIZE)
        path = os.path.join(self.root, 'spool', 'payload-' + uuid.uuid4().hex)
        with open(path, 'wb') as f:
            f.write(payload)
        self.addCleanup(os.unlink, path)
        r = curl(self.port, '/cgi-bin/upload.py', '-H', 'Transfer-Encoding: chunked',
                 '-H', 'Content-Type: application/octet-stream', '--data-binary', '@' + path)
        self.assertEqual((r.returncode, r.status), (0, 200), r)
        self.assertEqual(r.body.decode(),
                         upload_result(hashlib.sha256(payload).hexdigest(), UPLOAD_SIZE))

    def test_curl_reports_alpn_http11(self):
        r = curl(self.port, '/hello.txt', '-v')
        self.assertEqual((r.returncode, r.status, r.body), (0, 200, HELLO), r)
        # "ALPN: server accepted http/1.1" (curl 7.88+), "ALPN, server accepted to use
        # http/1.1" (older curl).
        alpn = [line for line in r.stderr.splitlines() if 'ALPN' in line and 'accepted' in line]
        self.assertTrue(alpn, r.stderr)
        self.assertIn('http/1.1', alpn[0])
        self.assertNotIn('h2', alpn[0])

    # ---- http.client

    def test_keep_alive_many_requests_one_connection(self):
        con = self.https()
        con.request('GET', '/alphabet.bin')
        res = con.getresponse()
        self.assertEqual((res.status, res.read()), (200, ALPHABET))
        etag, modified = res.getheader('ETag'), res.getheader('Last-Modified')
        self.assertTrue(etag and modified, res.getheaders())
        sock = con.sock
        self.assertIsInstance(sock, ssl.SSLSocket)
        remote_ports = set()
        requests = 1
        for i in range(5):
            con.request('GET', '/hello.txt')
            res = con.getresponse()
            self.assertEqual((res.status, res.read()), (200, HELLO))
            start = 10 * i
            con.request('GET', '/alphabet.bin',
                        headers={'Range': 'bytes=%d-%d' % (start, start + 9), 'If-Range': etag})
            res = con.getresponse()
            self.assertEqual((res.status, res.read()), (206, ALPHABET[start:start + 10]))
            self.assertEqual(res.getheader('Content-Range'),
                             'bytes %d-%d/%d' % (start, start + 9, len(ALPHABET)))
            # A stale validator: the whole file instead of the range.
            con.request('GET', '/alphabet.bin',
                        headers={'Range': 'bytes=0-9', 'If-Range': '"stale"'})
            res = con.getresponse()
            self.assertEqual((res.status, res.read()), (200, ALPHABET))
            con.request('GET', '/alphabet.bin',
                        headers={'Range': 'bytes=-5', 'If-Range': modified})
            res = con.getresponse()
            self.assertEqual((res.status, res.read()), (206, ALPHABET[-5:]))
            con.request('GET', '/cgi-bin/env.py?n=%d' % i)
            res = con.getresponse()
            self.assertEqual(res.status, 200)
            env = json.loads(res.read())
            self.assertEqual(env['QUERY_STRING'], 'n=%d' % i)
            self.assertEqual(env['REQUEST_SCHEME'], 'https')
            remote_ports.add(env['REMOTE_PORT'])
            body = b'%d' % i * (1000 * (i + 1))
            con.request('POST', '/cgi-bin/upload.py', body=body)
            res = con.getresponse()
            self.assertEqual((res.status, res.read().decode()),
                             (200, upload_result(hashlib.sha256(body).hexdigest(), len(body))))
            requests += 6
            self.assertIs(con.sock, sock, 'the connection was not kept alive')
        self.assertGreaterEqual(requests, 20)
        # The server saw one client port: one TCP connection for every CGI request.
        self.assertEqual(remote_ports, {str(sock.getsockname()[1])})
        self.assertTrue(lib.is_open(sock, 0.1))

    def test_cgi_environment(self):
        con = self.https()
        con.request('GET', '/cgi-bin/env.py/extra?a=1&b=2')
        res = con.getresponse()
        self.assertEqual(res.status, 200)
        env = json.loads(res.read())
        self.assertEqual(env['REQUEST_SCHEME'], 'https')
        self.assertEqual(env['HTTPS'], 'on')
        self.assertEqual(env['SERVER_PORT'], str(self.port))
        self.assertEqual(env['SERVER_PROTOCOL'], 'HTTP/1.1')
        self.assertEqual(env['QUERY_STRING'], 'a=1&b=2')
        self.assertEqual(env['PATH_INFO'], '/extra')
        self.assertEqual(env['REMOTE_ADDR'], '127.0.0.1')
        # mod_ssl's names: what this connection negotiated; no SNI for an address.
        self.assertEqual(env['SSL_PROTOCOL'], con.sock.version())
        self.assertEqual(env['SSL_CIPHER'], con.sock.cipher()[0])
        self.assertNotIn('SSL_TLS_SNI', env)
        by_name = http.client.HTTPSConnection('localhost', self.port, timeout=20,
                                              context=client_context())
        self.addCleanup(by_name.close)
        by_name.request('GET', '/cgi-bin/env.py')
        self.assertEqual(json.loads(by_name.getresponse().read())['SSL_TLS_SNI'], 'localhost')

    def test_chunked_upload_from_a_generator(self):
        payload = random.Random('chunked' + RUN).randbytes(UPLOAD_SIZE)
        sizes = [1, 7, 4093, 65536, 3, 250000, 100, 16385, 1000003]
        pieces = []

        def generate():
            offset = i = 0
            while offset < len(payload):
                n = sizes[i % len(sizes)]
                pieces.append(n)
                yield payload[offset:offset + n]
                offset += n
                i += 1
        con = self.https(timeout=30)
        con.request('POST', '/cgi-bin/upload.py', body=generate(), encode_chunked=True,
                    headers={'Transfer-Encoding': 'chunked'})
        res = con.getresponse()
        self.assertEqual((res.status, res.read().decode()),
                         (200, upload_result(hashlib.sha256(payload).hexdigest(), UPLOAD_SIZE)))
        self.assertGreater(len(pieces), 10)

    def test_content_length_upload_streams_into_the_running_script(self):
        payload = random.Random('length' + RUN).randbytes(UPLOAD_SIZE)
        script = os.path.join(self.root, 'cgi-bin', 'upload.py')
        con = self.https(timeout=30)
        con.putrequest('POST', '/cgi-bin/upload.py')
        con.putheader('Content-Length', str(len(payload)))
        con.putheader('Content-Type', 'application/octet-stream')
        con.endheaders()
        first = 1024 * 1024
        con.send(payload[:first])
        # The script runs before the body is complete: it reads the body as it comes.
        self.assertTrue(wait_for_processes(script, True, 10.0),
                        'the script did not start before the whole body was sent')
        for offset in range(first, len(payload), 300007):
            con.send(payload[offset:offset + 300007])
        res = con.getresponse()
        self.assertEqual((res.status, res.read().decode()),
                         (200, upload_result(hashlib.sha256(payload).hexdigest(), UPLOAD_SIZE)))

    # ---- ALPN and versions

    def test_alpn_selects_http11(self):
        sock = self.tls_socket(client_context(['h2', 'http/1.1']))
        self.assertEqual(sock.selected_alpn_protocol(), 'http/1.1')
        r = self.get_over(sock)
        self.assertEqual((r.version, r.status, r.body), ('HTTP/1.1', 200, HELLO))

    def test_alpn_h2_only_gets_no_protocol_but_is_served(self):
        sock = self.tls_socket(client_context(['h2']))
        self.assertIsNone(sock.selected_alpn_protocol())
        r = self.get_over(sock)
        self.assertEqual((r.version, r.status, r.body), ('HTTP/1.1', 200, HELLO))
        # And without ALPN at all.
        sock = self.tls_socket(client_context())
        self.assertIsNone(sock.selected_alpn_protocol())
        self.assertEqual(self.get_over(sock).body, HELLO)

    def versioned_context(self, maximum):
        context = client_context()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = maximum
        # Lets this client offer TLS 1.0/1.1 at all (OpenSSL 3 refuses them at level 1+),
        # so that it is the server that says no.
        context.set_ciphers('ALL:@SECLEVEL=0')
        return context

    def test_tls11_is_refused(self):
        since = self.log_position()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)
            with self.assertRaises(ssl.SSLError) as caught:
                self.tls_socket(self.versioned_context(ssl.TLSVersion.TLSv1_1))
        self.assertNotIsInstance(caught.exception, ssl.SSLCertVerificationError)
        self.assertLogged('TLS error', since)
        self.assertServes()

    def test_tls12_is_accepted(self):
        sock = self.tls_socket(self.versioned_context(ssl.TLSVersion.TLSv1_2))
        self.assertEqual(sock.version(), 'TLSv1.2')
        self.assertEqual(self.get_over(sock).body, HELLO)
        sock = self.tls_socket()
        self.assertIn(sock.version(), ('TLSv1.2', 'TLSv1.3'))

    # ---- faults

    def test_plain_http_on_the_https_port(self):
        since = self.log_position()
        data, how = lib.exchange(self.port, b'GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n')
        self.assertIn(how, ('eof', 'reset'))
        self.assertTrue(data.startswith(b'HTTP/1.0 400'), data)
        (response,), rest = lib.parse_responses(data)
        self.assertEqual(response.status, 400)
        self.assertEqual(response.body, b'Client sent an HTTP request to an HTTPS server.\n')
        self.assertEqual(rest, b'')
        self.assertLogged('TLS error', since)
        self.assertServes()

    def test_garbage_instead_of_a_client_hello(self):
        # A kept-alive client is there before and after: the faults end only their own
        # connections.
        keeper = self.https()
        keeper.request('GET', '/hello.txt')
        self.assertEqual(keeper.getresponse().read(), HELLO)
        keeper_sock = keeper.sock
        since = self.log_position()
        rng = random.Random('garbage' + RUN)
        # A handshake record whose message is random (a type other than ClientHello's 1,
        # whose random length the server would wait for) ...
        record = b'\x16\x03\x01\x00\x10' + bytes([rng.randrange(2, 256)]) + rng.randbytes(15)
        # ... and random bytes, but for the first two: not an HTTP method's letters (that
        # gets the plain-HTTP answer), and a version byte that names neither SSL 3+ nor
        # SSLv2's ClientHello (whose random length the server would wait for).
        noise = bytearray(rng.randbytes(64))
        noise[0] = rng.randrange(0x80, 0x100)
        noise[1] = rng.choice([b for b in range(256) if b not in (1, 3)])
        for garbage in (record, bytes(noise)):
            start = time.monotonic()
            data, how = lib.exchange(self.port, garbage, timeout=5.0)
            self.assertIn(how, ('eof', 'reset'), (garbage, data))
            self.assertLess(time.monotonic() - start, 3.0)
            self.assertFalse(data.startswith(b'HTTP/'), data)  # at most a TLS alert
        self.assertLogged('TLS error: ', since, count=2)
        self.assertTrue(self.server.running())
        keeper.request('GET', '/alphabet.bin')
        self.assertEqual(keeper.getresponse().read(), ALPHABET)
        self.assertIs(keeper.sock, keeper_sock)
        self.assertServes()

    def test_client_gone_while_its_script_runs(self):
        since = self.log_position()
        sock = self.tls_socket()
        sock.sendall(b'GET /cgi-bin/sleep.sh HTTP/1.1\r\nHost: localhost\r\n\r\n')
        self.assertTrue(wait_for_processes(marker('gone'), True, 5.0), 'the script did not start')
        sock.close()
        start = time.monotonic()
        self.assertEqual(wait_for_processes(marker('gone'), False, 5.0), [],
                         'the script outlived its client')
        self.assertLess(time.monotonic() - start, 5.0)
        self.assertLogged('the client went away while CGI script /cgi-bin/sleep.sh ran', since)
        self.assertNoZombies()
        self.assertServes()

    # ---- close_notify

    def read_to_close_notify(self, sock):
        """Reads until the end of the stream; ragged EOFs raise (suppress_ragged_eofs=False)."""
        data = bytearray()
        while True:
            chunk = sock.recv(65536)  # b'' at close_notify; SSLEOFError at a bare TCP FIN
            if not chunk:
                return bytes(data)
            data += chunk

    def test_closing_response_ends_with_close_notify(self):
        for request in (b'GET /hello.txt HTTP/1.0\r\n\r\n',
                        b'GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
                        b'GET /cgi-bin/env.py HTTP/1.0\r\n\r\n',
                        b'GET /missing HTTP/1.0\r\n\r\n'):
            sock = self.tls_socket(suppress_ragged_eofs=False)
            sock.sendall(request)
            try:
                data = self.read_to_close_notify(sock)
            except ssl.SSLEOFError as e:
                self.fail('%r: the server closed without close_notify (%s)' % (request, e))
            (response,), rest = lib.parse_responses(data)
            self.assertIn(response.status, (200, 404), response)
            if response.status == 200 and b'hello' in request:
                self.assertEqual(response.body, HELLO)
            self.assertEqual(rest, b'')

    def test_the_close_notify_check_can_fail(self):
        """The check above on this Python: a server that only closes TCP makes recv raise."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(CERTS.cert, CERTS.key)
        listener = socket.create_server((lib.LOCALHOST, 0))
        self.addCleanup(listener.close)
        listener.settimeout(10)

        def serve():
            try:
                conn, _ = listener.accept()
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1000)
                    tls.sendall(b'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok')
                    # closing without unwrap(): no close_notify
            except OSError:
                pass
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        raw = lib.connect(listener.getsockname()[1], timeout=10.0)
        sock = client_context().wrap_socket(raw, server_hostname='localhost',
                                            suppress_ragged_eofs=False)
        self.addCleanup(sock.close)
        sock.sendall(b'GET / HTTP/1.0\r\n\r\n')
        with self.assertRaises(ssl.SSLEOFError):
            self.read_to_close_notify(sock)

    # ---- last: nothing leaked

    def test_zz_descriptors_back_to_baseline_and_no_zombies(self):
        self.assertServes()
        count = settled_fd_count(self.server.pid, self.baseline, timeout=5.0)
        self.assertLessEqual(count, self.baseline,
                             'descriptors: %d at baseline, %d now\nbaseline: %s\nnow: %s'
                             % (self.baseline, count, self.baseline_targets,
                                fd_targets(self.server.pid)))
        self.assertNoZombies()


class ConcurrentLoadTest(HTTPSCase):
    """64 TLS clients at once, each a kept-alive connection making a mix of requests (a
    file, a Range of the big file, a CGI upload) for about 3 s: every answer is checked,
    none fails, and afterwards the server is back to its descriptors and has no zombies."""

    CLIENTS = 64
    SECONDS = 3.0

    @classmethod
    def setUpClass(cls):
        cls.root, cls.big = make_site(cls)
        cls.server, cls.port = start_https_server(cls, cls.root)

    def descriptors(self):
        """The server's descriptors but the served files its open-file cache keeps."""
        return [t for t in fd_targets(self.server.pid) if self.root not in t]

    def test_many_clients_at_once(self):
        # Warm-up: what is opened once (the scripts' /dev/null) is in the baseline.
        self.assertServes()
        con = self.https()
        con.request('POST', '/cgi-bin/upload.py', body=b'x')
        self.assertEqual(con.getresponse().read(),
                         upload_result(hashlib.sha256(b'x').hexdigest(), 1).encode())
        con.close()
        stable_fd_count(self.server.pid)
        baseline = len(self.descriptors())
        deadline = time.monotonic() + self.SECONDS
        counts, failures = [], []

        def client(number):
            done = 0
            try:
                con = http.client.HTTPSConnection(lib.LOCALHOST, self.port, timeout=30,
                                                  context=client_context())
                while time.monotonic() < deadline:
                    kind = (number + done) % 3
                    if kind == 0:
                        con.request('GET', '/hello.txt')
                        expected = HELLO
                    elif kind == 1:
                        start = (number * 7919 + done * 104729) % (BIG_SIZE - 65536)
                        con.request('GET', '/big.bin',
                                    headers={'Range': 'bytes=%d-%d' % (start, start + 65535)})
                        expected = self.big[start:start + 65536]
                    else:
                        body = bytes([number % 256]) * (1000 + done)
                        con.request('POST', '/cgi-bin/upload.py', body=body)
                        expected = upload_result(hashlib.sha256(body).hexdigest(),
                                                 len(body)).encode()
                    got = con.getresponse().read()
                    if got != expected:
                        raise AssertionError('client %d request %d: %r' % (number, done, got[:80]))
                    done += 1
                con.close()
            except Exception as e:  # reported below, with the others
                failures.append('client %d: %r' % (number, e))
            counts.append(done)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(self.CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(failures, [])
        self.assertEqual(len(counts), self.CLIENTS)
        self.assertGreater(min(counts), 0, 'a client was starved')
        settle = time.monotonic() + 5.0
        while len(self.descriptors()) > baseline and time.monotonic() < settle:
            time.sleep(0.05)
        self.assertLessEqual(len(self.descriptors()), baseline, self.descriptors())
        self.assertNoZombies()
        self.assertServes()


class HandshakeTimeoutTest(HTTPSCase):
    """--handshake-ms 500: clients that never finish their handshake are closed on time,
    and do not hold up the others."""

    STALLED = 20

    @classmethod
    def setUpClass(cls):
        cls.root, _ = make_site(cls)
        cls.server, cls.port = start_https_server(cls, cls.root, '--handshake-ms', '500')

    def client_hello(self):
        """The first bytes a real client sends: its ClientHello."""
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = client_context().wrap_bio(incoming, outgoing, server_hostname='localhost')
        with self.assertRaises(ssl.SSLWantReadError):
            tls.do_handshake()
        hello = outgoing.read()
        self.assertEqual(hello[:1], b'\x16')
        return hello

    def test_unfinished_handshakes_are_closed_and_others_are_served(self):
        since = self.log_position()
        partial = self.client_hello()[:3]
        stalled = []
        for i in range(self.STALLED):
            sock = lib.connect(self.port, timeout=10.0)
            self.addCleanup(sock.close)
            if i % 2:
                sock.sendall(partial)  # a ClientHello cut after 3 bytes
            stalled.append((sock, time.monotonic()))
        # Meanwhile, a real client gets its answer at once.
        start = time.monotonic()
        r = curl(self.port, '/hello.txt')
        elapsed = time.monotonic() - start
        self.assertEqual((r.returncode, r.status, r.body), (0, 200, HELLO), r)
        self.assertLess(elapsed, 2.5)
        for i, (sock, opened) in enumerate(stalled):
            data, how = lib.recv_until_close(sock, timeout=6.0)
            waited = time.monotonic() - opened
            self.assertIn(how, ('eof', 'reset'), 'stalled connection %d still open' % i)
            self.assertEqual(data, b'')
            self.assertTrue(0.3 <= waited <= 4.0, 'connection %d closed after %.2f s'
                            % (i, waited))
        self.assertLogged('TLS handshake not completed in time', since, count=self.STALLED)
        self.assertServes()

    def test_silent_client_closed_after_the_timeout(self):
        for send in (b'', None):
            sock = lib.connect(self.port, timeout=10.0)
            self.addCleanup(sock.close)
            since = self.log_position()
            opened = time.monotonic()
            if send is None:
                sock.sendall(self.client_hello()[:3])
            how, waited, data = lib.wait_closed(sock, timeout=6.0)
            waited = time.monotonic() - opened
            self.assertIn(how, ('eof', 'reset'))
            self.assertEqual(data, b'')
            self.assertTrue(0.3 <= waited <= 4.0, 'closed after %.2f s' % waited)
            self.assertLogged('TLS handshake not completed in time', since)

    def test_completed_handshake_is_not_cut_by_the_handshake_timeout(self):
        sock = self.tls_socket()
        time.sleep(0.9)  # longer than the handshake timeout, shorter than the head's
        self.assertEqual(self.get_over(sock).body, HELLO)


class MaxConnectionsTest(HTTPSCase):
    """--max-connections 2 over TLS: a connection beyond the limit is closed without a
    plain-text 503 (the client expects TLS), logged once, and room comes back."""

    @classmethod
    def setUpClass(cls):
        cls.root, _ = make_site(cls)
        cls.server, cls.port = start_https_server(cls, cls.root, '--max-connections', '2')

    def test_over_the_limit_is_closed_without_cleartext(self):
        since = self.log_position()
        held = [self.tls_socket() for _ in range(2)]
        for sock in held:  # both counted: each has been served
            self.assertEqual(self.get_over(sock).body, HELLO)
        extra = lib.connect(self.port, timeout=10.0)
        self.addCleanup(extra.close)
        data, how = lib.recv_until_close(extra, timeout=5.0)
        self.assertIn(how, ('eof', 'reset'))
        self.assertEqual(data, b'', 'a TLS client cannot read a clear-text answer')
        self.assertLogged('closed a new connection: max_connections (2) reached', since)
        held[0].close()
        deadline = time.monotonic() + 5  # until the server has seen the close
        while True:
            try:
                sock = self.tls_socket()
                break
            except (ssl.SSLError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.assertEqual(self.get_over(sock).body, HELLO)


# ---------------------------------------------------------------------------------------
# The demo and the embedding example

class DemoTest(unittest.TestCase):
    """cgihttpserver with Python 3.14's TLS options, serving a copy of examples/www."""

    def setUp(self):
        self.www, self.data = lib.copy_demo_site(self)
        with open(os.path.join(self.www, 'index.html'), 'rb') as f:
            self.index = f.read()

    def check_banner(self, proc, base):
        port = int(base.rsplit(':', 1)[1])
        self.assertEqual(base, 'https://127.0.0.1:%d' % port)
        self.assertIn('Serving HTTPS on 127.0.0.1 port %d (https://127.0.0.1:%d/) ...\n'
                      % (port, port), proc.stdout.text())
        return port

    def test_encrypted_key_with_password_file(self):
        proc, base = lib.start_demo_site(self, self.www, self.data, '--cgi', '-p', 'HTTP/1.1',
                                         '--tls-cert', CERTS.cert,
                                         '--tls-key', CERTS.encrypted_key,
                                         '--tls-password-file', CERTS.password_file)
        port = self.check_banner(proc, base)
        r = curl(port, '/')
        self.assertEqual((r.returncode, r.status, r.body), (0, 200, self.index), r)
        r = curl(port, '/cgi-bin/hello.sh')
        self.assertEqual((r.returncode, r.status), (0, 200), r)
        page = r.body.decode()
        self.assertIn('<h1>Hello from a shell script</h1>', page)
        self.assertIn('for a GET of /cgi-bin/hello.sh.', page)
        r = curl(port, '/cgi-bin/env.py', host='127.0.0.1')
        self.assertEqual((r.returncode, r.status), (0, 200), r)
        self.assertIn('<tr><td>HTTPS</td><td>on</td></tr>', r.body.decode())
        self.assertIn('<tr><td>REQUEST_SCHEME</td><td>https</td></tr>', r.body.decode())
        self.assertIn('"GET /cgi-bin/hello.sh HTTP/1.1" 200', proc.stderr.text())

    def test_combined_pem_without_key(self):
        proc, base = lib.start_demo_site(self, self.www, self.data, '-p', 'HTTP/1.1',
                                         '--tls-cert', CERTS.combined)
        port = self.check_banner(proc, base)
        r = curl(port, '/')
        self.assertEqual((r.returncode, r.status, r.body), (0, 200, self.index), r)
        r = curl(port, '/files/readme.txt')
        with open(os.path.join(self.www, 'files', 'readme.txt'), 'rb') as f:
            self.assertEqual((r.status, r.body), (200, f.read()))

    def test_sighup_reloads_the_certificate(self):
        tls_dir = tempfile.mkdtemp(prefix='cgihttp-reload-')
        self.addCleanup(shutil.rmtree, tls_dir, True)
        cert, key = os.path.join(tls_dir, 'cert.pem'), os.path.join(tls_dir, 'key.pem')
        shutil.copy(CERTS.cert, cert)
        shutil.copy(CERTS.key, key)
        proc, base = lib.start_demo_site(self, self.www, self.data, '-p', 'HTTP/1.1',
                                         '--tls-cert', cert, '--tls-key', key)
        port = self.check_banner(proc, base)
        any_certificate = ssl.create_default_context()
        any_certificate.check_hostname = False
        any_certificate.verify_mode = ssl.CERT_NONE

        def presented():
            with socket.create_connection((lib.LOCALHOST, port), timeout=10) as raw:
                with any_certificate.wrap_socket(raw) as tls:
                    return tls.getpeercert(binary_form=True)

        def der(path):
            with open(path) as f:
                return ssl.PEM_cert_to_DER_cert(f.read())

        def reload_and_wait(text):
            since = len(proc.stderr.text())
            proc.send_signal(signal.SIGHUP)
            self.assertTrue(proc.stderr.wait_for(lambda log: text in log[since:], 5.0),
                            proc.stderr.text())

        self.assertEqual(presented(), der(CERTS.cert))
        kept = http.client.HTTPSConnection(lib.LOCALHOST, port, timeout=10,
                                           context=any_certificate)
        self.addCleanup(kept.close)
        kept.request('GET', '/')
        self.assertEqual(kept.getresponse().read(), self.index)
        shutil.copy(CERTS.renewed_cert, cert)  # a renewal, as certbot writes it
        shutil.copy(CERTS.renewed_key, key)
        reload_and_wait('cgihttpserver: TLS certificate and key reloaded\n')
        self.assertEqual(presented(), der(CERTS.renewed_cert))
        kept.request('GET', '/')  # an open connection goes on with its session
        self.assertEqual(kept.getresponse().read(), self.index)
        with open(key, 'w') as f:
            f.write('not a key\n')
        reload_and_wait('cgihttpserver: cannot reload the TLS certificate or key, still '
                        'serving the previous ones: ')
        self.assertEqual(presented(), der(CERTS.renewed_cert))
        self.assertTrue(proc.running())

    def run_demo(self, *options):
        return lib.run_program([lib.binary('CGIHTTP_DEMO'), '-b', lib.LOCALHOST, '-d', self.www]
                               + list(options) + ['0'], timeout=10)

    def test_wrong_password_exits_1(self):
        result = self.run_demo('--tls-cert', CERTS.cert, '--tls-key', CERTS.encrypted_key,
                               '--tls-password-file', CERTS.wrong_password_file)
        self.assertEqual(result.returncode, 1, result)
        self.assertIn('cgihttpserver: cannot load the TLS certificate or key: ', result.stderr)
        self.assertNotIn('Serving', result.stdout)

    def test_encrypted_key_without_password_exits_1(self):
        result = self.run_demo('--tls-cert', CERTS.cert, '--tls-key', CERTS.encrypted_key)
        self.assertEqual(result.returncode, 1, result)
        self.assertIn('cgihttpserver: cannot load the TLS certificate or key: ', result.stderr)

    def assertUsageError(self, result, message):
        self.assertEqual(result.returncode, 2, result)
        self.assertTrue(result.stderr.startswith('usage: cgihttpserver '), result.stderr)
        self.assertTrue(result.stderr.endswith('cgihttpserver: error: %s\n' % message),
                        result.stderr)
        self.assertEqual(result.stdout, '')

    def test_key_without_cert_exits_2(self):
        self.assertUsageError(self.run_demo('--tls-key', CERTS.key),
                              '--tls-key requires --tls-cert to be set')

    def test_password_file_without_cert_exits_2(self):
        self.assertUsageError(self.run_demo('--tls-password-file', CERTS.password_file),
                              '--tls-password-file requires --tls-cert to be set')

    def test_missing_password_file_exits_2(self):
        missing = os.path.join(CERTS.directory, 'no-such-password')
        self.assertUsageError(
            self.run_demo('--tls-cert', CERTS.cert, '--tls-key', CERTS.encrypted_key,
                          '--tls-password-file', missing),
            "Failed to read TLS password file: [Errno 2] No such file or directory: '%s'"
            % missing)


class HttpsServerExampleTest(unittest.TestCase):
    """examples/https_server: its own /whoami page and the files of its directory."""

    def test_whoami_and_a_static_file(self):
        cwd = tempfile.mkdtemp(prefix='cgihttp-https-example-')
        self.addCleanup(shutil.rmtree, cwd, True)
        os.chmod(cwd, 0o755)
        with open(os.path.join(cwd, 'page.txt'), 'wb') as f:
            f.write(b'a page of the example\n')
        program = os.path.abspath(lib.binary('CGIHTTP_HTTPS_SERVER'))  # it runs in cwd
        proc = lib.start_process(self, [program, CERTS.cert, CERTS.key, '0'],
                                 ready=r'https_server: serving https://127\.0\.0\.1:(\d+)/\n',
                                 cwd=cwd)
        port = int(proc.ready_match.group(1))
        self.assertNotEqual(port, 0)
        con = http.client.HTTPSConnection(lib.LOCALHOST, port, timeout=10,
                                          context=client_context())
        self.addCleanup(con.close)
        con.request('GET', '/whoami')
        res = con.getresponse()
        body = res.read().decode()
        self.assertEqual(res.status, 200)
        self.assertRegex(body, r'\AHello 127\.0\.0\.1, this is https://[^\s:/]+:%d\n\Z' % port)
        sock = con.sock
        con.request('GET', '/page.txt')
        res = con.getresponse()
        self.assertEqual((res.status, res.read()), (200, b'a page of the example\n'))
        self.assertIs(con.sock, sock)
        r = curl(port, '/whoami')
        self.assertEqual((r.returncode, r.status, r.body.decode()), (0, 200, body), r)


if __name__ == '__main__':
    unittest.main()
