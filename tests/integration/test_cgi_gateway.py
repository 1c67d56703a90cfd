"""CGIRequestHandler as an RFC 3875 gateway, over loopback with raw sockets (and curl where
a real client's behaviour matters): the script's header block (Status, Location, local
redirects, pass-through fields, 502 for broken blocks), response framing (chunked for
HTTP/1.1 keep-alive, Content-Length, HTTP/1.0, HEAD), nph- scripts, Python's pass-through
mode, streaming both ways (chunked, Content-Length and 100-continue uploads; a 120 MB
response in bounded memory; progressive output), and the processes: time limit, client
loss, grandchildren, descriptors, environment, user, concurrency cap, crashes, a check
that all the faults leaked neither descriptors nor zombies; back-pressure both ways (a
client that stops reading, a script that ignores an upload); and the server running out
of descriptors or processes (its limits lowered while it runs).

Against `cgihttp_test_server cgi --directory DIR ...` (attributes from the command line)
and the demo `cgihttpserver`. Scripts are written by the tests into a temporary directory;
as root the library runs them as `nobody`, so the directories and scripts are 0755."""

import base64
import hashlib
import json
import os
import pwd
import re
import resource
import select
import shutil
import socket
import tempfile
import threading
import time
import unittest
import uuid

import cgihttp_testlib as lib
from cgihttp_testlib import (fd_count, fd_targets, processes_with, settled_fd_count,
                             stable_fd_count, status_field, wait_for_processes,
                             zombie_children)

RUN = uuid.uuid4().hex[:12]  # makes this run's process markers unique on the machine
SLEEPER = "python3 -c 'import time; time.sleep(60)'"
BIG_OUTPUT = 120 * 1024 * 1024


def marker(name):
    return 'cgimark-%s-%s' % (RUN, name)


def sleeper(name, ignore_term=False):
    """A shell command running a python3 process whose command line holds marker(name)."""
    if ignore_term:
        return ("python3 -c 'import signal, time; signal.signal(signal.SIGTERM, "
                "signal.SIG_IGN); time.sleep(60)' %s" % marker(name))
    return '%s %s' % (SLEEPER, marker(name))


SH = '#!/bin/sh\n'
PY = '#!/usr/bin/env python3\n'
TEXT = "printf 'Content-Type: text/plain\\r\\n\\r\\n'\n"

SCRIPTS = {
    # ---- RFC 3875 section 6: the header block
    'status404.sh': SH + "printf 'Status: 404 Not Here\\r\\nContent-Type: text/plain\\r\\n"
                         "\\r\\nnot here\\n'\n",
    'status201.sh': SH + "echo 'Status: 201'\necho 'Content-Type: text/plain'\necho\n"
                         "echo created\n",
    'redirect_abs.sh': SH + "echo 'Location: http://example.com/x'\necho\n",
    'redirect_303.sh': SH + "echo 'Status: 303'\necho 'Location: /see/other'\necho\n",
    'redirect_static.sh': SH + "echo 'Location: /static.txt'\necho\n",
    'redirect_script.sh': SH + "echo 'Location: /cgi-bin/target.sh?from=redirect'\necho\n",
    'target.sh': SH + "printf 'Content-Type: text/plain\\r\\nX-Target: yes\\r\\n\\r\\n'\n"
                      "echo \"method=$REQUEST_METHOD query=$QUERY_STRING uri=$REQUEST_URI\"\n",
    'loop.sh': SH + "echo 'Location: /cgi-bin/loop.sh'\necho\n",
    'headers.sh': SH + "printf 'Content-Type: text/plain\\r\\nX-Custom: custom value\\r\\n"
                       "Set-Cookie: a=1\\r\\nSet-Cookie: b=2\\r\\n\\r\\nbody\\n'\n",
    'hopbyhop.sh': SH + "printf 'Content-Type: text/plain\\r\\nConnection: close\\r\\n"
                        "Transfer-Encoding: gzip\\r\\nKeep-Alive: timeout=1\\r\\n\\r\\n"
                        "plain body\\n'\n",
    'noblank.sh': SH + "echo 'Content-Type: text/plain'\n",
    'malformed.sh': SH + "echo 'this line is not a header'\necho\necho body\n",
    'silent.sh': SH + "exit 0\n",
    'bighead.py': PY + "import sys\nout = sys.stdout.buffer\n"
                       "for i in range(100):\n"
                       "    out.write(b'X-Pad-%d: ' % i + b'a' * 1000 + b'\\r\\n')\n"
                       "out.write(b'Content-Type: text/plain\\r\\n\\r\\nbody\\n')\n",
    'pieces.sh': SH + "printf 'X-Early: 1\\r\\nSet-Cookie: once=1\\r\\n'\nsleep 0.3\n"
                      + TEXT + "echo body\n",
    'long.sh': SH + "printf 'Content-Type: text/plain\\r\\nContent-Length: 4\\r\\n\\r\\n"
                    "toolong\\n'\n",
    'status101.sh': SH + "printf 'Status: 101\\r\\n\\r\\n'\n",
    'status204.sh': SH + "printf 'Status: 204\\r\\nContent-Length: 5\\r\\n\\r\\n'\n",
    'short.sh': SH + "printf 'Content-Type: text/plain\\r\\nContent-Length: 100\\r\\n\\r\\n"
                     "only this\\n'\n",
    # ---- framing
    'nolen.sh': SH + TEXT + "echo line one\necho line two\n",
    'endless.sh': SH + TEXT + 'exec yes %s\n' % marker('endless'),
    'ignores_body.sh': SH + TEXT + 'echo ignored\n',
    'withlen.sh': SH + "printf 'Content-Type: text/plain\\r\\nContent-Length: 6\\r\\n\\r\\n"
                       "exact\\n'\n",
    'effect.sh': SH + "touch \"$DOCUMENT_ROOT/spool/ran-$REQUEST_METHOD-$QUERY_STRING\"\n"
                      + TEXT + "echo a body that HEAD must not send\n",
    'nph-test.sh': SH + "printf 'HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n"
                        "X-Nph: raw\\r\\n\\r\\nnph body\\n'\n",
    'passthrough.sh': SH + "printf 'Status: 404 Ignored\\r\\nContent-Type: text/plain\\r\\n"
                           "\\r\\nraw output\\n'\n",
    # ---- streaming
    'upload.py': PY + "import hashlib, os, sys\nh = hashlib.sha256()\nn = 0\n"
                      "while True:\n"
                      "    b = sys.stdin.buffer.read(65536)\n"
                      "    if not b:\n        break\n"
                      "    h.update(b)\n    n += len(b)\n"
                      "sys.stdout.write('Content-Type: text/plain\\r\\n\\r\\n'\n"
                      "    'sha256=%s\\nread=%d\\ncontent_length=%s\\ncontent_type=%s\\n'\n"
                      "    % (h.hexdigest(), n, os.environ.get('CONTENT_LENGTH'),\n"
                      "       os.environ.get('CONTENT_TYPE')))\n",
    'big.sh': SH + "printf 'Content-Type: application/octet-stream\\r\\n\\r\\n'\n"
                   "exec head -c %d /dev/zero\n" % BIG_OUTPUT,
    'progressive.sh': SH + TEXT + "echo first\nsleep 1\necho second\n",
    # ---- processes
    'env.py': PY + "import json, os, sys\n"
                   "body = json.dumps({'env': dict(os.environ), 'argv': sys.argv,\n"
                   "                   'cwd': os.getcwd()}).encode()\n"
                   "sys.stdout.buffer.write(b'Content-Type: application/json\\r\\n'\n"
                   "    b'Content-Length: %d\\r\\n\\r\\n' % len(body) + body)\n",
    'fds.py': PY + "import os\nfds = os.listdir('/proc/self/fd')\nlines = []\n"
                   "for fd in sorted(fds, key=int):\n"
                   "    try:\n        target = os.readlink('/proc/self/fd/' + fd)\n"
                   "    except OSError:\n        target = '(closed)'\n"
                   "    lines.append('%s %s' % (fd, target))\n"
                   "print('Content-Type: text/plain\\n\\n' + '\\n'.join(lines))\n",
    'ids.sh': SH + TEXT + "echo \"uid=$(id -u)\"\necho \"gid=$(id -g)\"\n"
                          "echo \"groups=$(id -G)\"\n",
    'stderr.sh': SH + "echo 'first complaint' >&2\n" + TEXT + "echo ok\n"
                      "echo 'second complaint' >&2\n",
    'segv.sh': SH + "kill -SEGV $$\n",
    'exit1.sh': SH + TEXT + "echo delivered\nexit 1\n",
    'noexec.sh': SH + TEXT + "echo should not run\n",
    'slow_timeout.sh': SH + 'exec ' + sleeper('timeout') + '\n',
    'slow_grandchild.sh': SH + '(' + sleeper('grandchild-bg') + ' &)\n'
                          + 'exec ' + sleeper('grandchild-fg') + '\n',
    'slow_trap.sh': SH + "trap '' TERM HUP INT\n" + sleeper('trap', ignore_term=True) + '\n',
    'slow_started.sh': SH + TEXT + "echo partial\nexec " + sleeper('started') + '\n',
    'leftover.sh': SH + '(' + sleeper('leftover') + ' &)\n' + TEXT
                   + "echo done before the grandchild\n",
    'slow_disconnect.sh': SH + 'exec ' + sleeper('disconnect') + '\n',
    'slow_cap.sh': SH + "sleep 1\n" + TEXT + "echo slow done\n",
    'redirect_capped.sh': SH + "echo 'Location: /cgi-bin/nolen.sh'\necho\n",
}
for _name in ('f-timeout', 'f-grandchild', 'f-disconnect', 'f-upload', 'f-cap1', 'f-cap2',
              'np-hold'):
    SCRIPTS['fault_%s.sh' % _name] = SH + 'exec ' + sleeper(_name) + '\n'
SCRIPTS['fault_f-grandchild.sh'] = (SH + '(' + sleeper('f-grandchild-bg') + ' &)\n'
                                    + 'exec ' + sleeper('f-grandchild') + '\n')
SCRIPTS['fault_f-upload.sh'] = SH + 'exec ' + "python3 -c 'import sys, time; " \
    "sys.stdin.buffer.read(10); time.sleep(60)' " + marker('f-upload') + '\n'

STATIC = b'static content\n'


def make_docroot(testcase_class):
    """A served directory with cgi-bin/ holding SCRIPTS, a static file, a directory in
    cgi-bin, and spool/ where scripts (as nobody) may write. Removed at class cleanup."""
    root = os.path.realpath(tempfile.mkdtemp(prefix='cgihttp-gateway-'))
    testcase_class.addClassCleanup(shutil.rmtree, root, True)
    os.chmod(root, 0o755)
    cgi_bin = os.path.join(root, 'cgi-bin')
    os.mkdir(cgi_bin)
    os.chmod(cgi_bin, 0o755)
    os.mkdir(os.path.join(cgi_bin, 'subdir'))
    os.chmod(os.path.join(cgi_bin, 'subdir'), 0o755)
    os.mkdir(os.path.join(root, 'spool'))
    os.chmod(os.path.join(root, 'spool'), 0o777)
    for name, text in SCRIPTS.items():
        path = os.path.join(cgi_bin, name)
        with open(path, 'w') as f:
            f.write(text)
        os.chmod(path, 0o644 if name == 'noexec.sh' else 0o755)
    with open(os.path.join(root, 'static.txt'), 'wb') as f:
        f.write(STATIC)
    os.chmod(os.path.join(root, 'static.txt'), 0o644)
    return root


def start_cgi_server(testcase_class, root, *options, env=None):
    """Starts `cgihttp_test_server cgi --directory ROOT OPTIONS`, stopped at class cleanup."""
    proc = lib.ServerProcess([lib.binary('CGIHTTP_TEST_SERVER'), 'cgi', '--directory', root]
                             + list(options), ready=r'PORT (\d+)\n', env=env)
    testcase_class.addClassCleanup(proc.stop)
    return proc, int(proc.ready_match.group(1))


# ---------------------------------------------------------------------------------------
# /proc

def io_written(pid):
    """Bytes process `pid` has written (wchar of /proc/PID/io)."""
    with open('/proc/%d/io' % pid) as f:
        for line in f:
            if line.startswith('wchar:'):
                return int(line.split()[1])
    raise AssertionError('no wchar in /proc/%d/io' % pid)


# ---------------------------------------------------------------------------------------
# A client that understands chunked responses

class Reply:
    """One response: version, status, reason, fields [(name, value)], body (de-chunked),
    chunked (Transfer-Encoding: chunked was used), complete (the body's framing ended
    properly, rather than the connection being cut), head (raw bytes of the head)."""

    def __init__(self, version, status, reason, fields, head):
        self.version, self.status, self.reason, self.fields, self.head = (
            version, status, reason, fields, head)
        self.body = b''
        self.chunked = False
        self.complete = True

    def header(self, name, default=None):
        for field, value in self.fields:
            if field.lower() == name.lower():
                return value
        return default

    def all(self, name):
        return [value for field, value in self.fields if field.lower() == name.lower()]

    def __repr__(self):
        return 'Reply(%s %d %r, %r, body %r%s)' % (
            self.version, self.status, self.reason, self.fields, self.body[:300],
            '' if self.complete else ', cut')


class Client:
    """A raw connection: send bytes, read responses framed as a client frames them."""

    def __init__(self, port, timeout=10.0):
        self.sock = lib.connect(port, timeout=timeout)
        self.timeout = timeout
        self.buffer = bytearray()
        self.eof = False

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout('no complete response within %.1f s: %r'
                                 % (self.timeout, bytes(self.buffer[:500])))
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 20)
        except ConnectionResetError:
            chunk = b''
        if not chunk:
            self.eof = True
            return False
        self.buffer += chunk
        return True

    def _line(self, deadline):
        while b'\n' not in self.buffer:
            if not self._fill(deadline):
                return None
        end = self.buffer.index(b'\n') + 1
        line = bytes(self.buffer[:end])
        del self.buffer[:end]
        return line

    def _take(self, n, deadline):
        while len(self.buffer) < n:
            if not self._fill(deadline):
                return None
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def read_head(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while b'\r\n\r\n' not in self.buffer:
            if not self._fill(deadline):
                raise lib.ProtocolError('connection closed inside a response head: %r'
                                        % bytes(self.buffer))
        end = self.buffer.index(b'\r\n\r\n') + 4
        head = bytes(self.buffer[:end])
        del self.buffer[:end]
        lines = head.decode('latin-1').split('\r\n')[:-2]
        match = re.fullmatch(r'(HTTP/\d\.\d) (\d{3}) ?(.*)', lines[0])
        if not match:
            raise lib.ProtocolError('bad status line %r' % lines[0])
        fields = []
        for line in lines[1:]:
            name, colon, value = line.partition(':')
            if not colon:
                raise lib.ProtocolError('bad header line %r' % line)
            fields.append((name, value.strip()))
        return Reply(match.group(1), int(match.group(2)), match.group(3), fields, head)

    def read_response(self, method='GET', timeout=None):
        """The next final response (interim 1xx responses are skipped)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self.read_head(timeout)
            if reply.status >= 200:
                break
        if method == 'HEAD' or reply.status in (204, 304):
            return reply
        if (reply.header('Transfer-Encoding') or '').lower() == 'chunked':
            reply.chunked = True
            body = bytearray()
            while True:
                line = self._line(deadline)
                if line is None:
                    reply.complete = False
                    break
                size = int(line.split(b';')[0].strip(), 16)
                if size == 0:
                    while True:  # trailers
                        trailer = self._line(deadline)
                        if trailer is None:
                            reply.complete = False
                        if trailer in (None, b'\r\n', b'\n'):
                            break
                    break
                data = self._take(size + 2, deadline)
                if data is None:
                    body += self.buffer
                    self.buffer.clear()
                    reply.complete = False
                    break
                body += data[:-2]
            reply.body = bytes(body)
        elif reply.header('Content-Length') is not None:
            data = self._take(int(reply.header('Content-Length')), deadline)
            if data is None:
                reply.complete = False
                data = bytes(self.buffer)
                self.buffer.clear()
            reply.body = data
        else:
            while self._fill(deadline):
                pass
            reply.body = bytes(self.buffer)
            self.buffer.clear()
        return reply

    def closed_by_server(self, timeout=3.0):
        """True when the server closes the connection within `timeout` without sending more."""
        if self.buffer:
            return False
        data, how = lib.recv_until_close(self.sock, timeout)
        return how in ('eof', 'reset') and data == b''


def request_bytes(method, target, version='HTTP/1.1', headers=(), body=None):
    lines = ['%s %s %s' % (method, target, version)]
    names = [name.lower() for name, _ in headers]
    if version == 'HTTP/1.1' and 'host' not in names:
        lines.append('Host: 127.0.0.1')
    for name, value in headers:
        lines.append('%s: %s' % (name, value))
    if body is not None and 'content-length' not in names and \
            'transfer-encoding' not in names:
        lines.append('Content-Length: %d' % len(body))
    data = ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')
    return data + (body or b'')


class GatewayCase(unittest.TestCase):
    """Helpers shared by the test classes; subclasses set cls.server, cls.port, cls.root."""

    def client(self, port=None, timeout=10.0):
        c = Client(port or self.port, timeout)
        self.addCleanup(c.close)
        return c

    def fetch(self, target, method='GET', version='HTTP/1.1', headers=(), body=None,
              port=None, timeout=10.0):
        """One request on a new connection (Connection: close for HTTP/1.1)."""
        c = self.client(port, timeout)
        hdrs = list(headers)
        if version == 'HTTP/1.1' and not any(n.lower() == 'connection' for n, _ in hdrs):
            hdrs.append(('Connection', 'close'))
        c.send(request_bytes(method, target, version, hdrs, body))
        try:
            return c.read_response(method, timeout)
        finally:
            c.close()  # at once: the server need not linger on the connection

    def assertLogged(self, text, timeout=3.0, server=None):
        server = server or self.server
        found = server.stderr.wait_for(lambda log: text in log, timeout)
        self.assertTrue(found, 'server log lacks %r:\n%s' % (text, server.stderr.text()[-3000:]))

    def assertGone(self, name, timeout=2.0):
        left = wait_for_processes(marker(name), False, timeout)
        self.assertEqual(left, [], 'processes of %s still running' % name)

    def assertNoZombies(self, server=None, timeout=2.0):
        server = server or self.server
        deadline = time.monotonic() + timeout
        while True:
            zombies = zombie_children(server.pid)
            if not zombies or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(zombies, [], 'zombie children of the server')


# ---------------------------------------------------------------------------------------

class ResponseParsingTest(GatewayCase):
    """RFC 3875 section 6: what the script's header block makes of the response."""

    @classmethod
    def setUpClass(cls):
        cls.root = make_docroot(cls)
        cls.server, cls.port = start_cgi_server(cls, cls.root, '--protocol', 'HTTP/1.1')

    def test_status_with_reason(self):
        r = self.fetch('/cgi-bin/status404.sh')
        self.assertEqual((r.status, r.reason, r.body), (404, 'Not Here', b'not here\n'))
        self.assertIsNone(r.header('Status'), 'Status is a CGI field, not an HTTP one')

    def test_status_without_reason_gets_the_table_phrase(self):
        r = self.fetch('/cgi-bin/status201.sh')
        self.assertEqual((r.status, r.reason, r.body), (201, 'Created', b'created\n'))

    def test_absolute_location_is_a_302(self):
        r = self.fetch('/cgi-bin/redirect_abs.sh')
        self.assertEqual(r.status, 302)
        self.assertEqual(r.header('Location'), 'http://example.com/x')

    def test_status_303_with_location(self):
        r = self.fetch('/cgi-bin/redirect_303.sh')
        self.assertEqual(r.status, 303)
        self.assertEqual(r.header('Location'), '/see/other')

    def test_local_redirect_to_a_static_file(self):
        r = self.fetch('/cgi-bin/redirect_static.sh')
        self.assertEqual((r.status, r.body), (200, STATIC))
        self.assertIsNone(r.header('Location'))
        self.assertEqual(r.header('Content-Length'), str(len(STATIC)))

    def test_local_redirect_to_another_script(self):
        r = self.fetch('/cgi-bin/redirect_script.sh', method='POST', body=b'dropped body')
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header('Location'))
        self.assertEqual(r.header('X-Target'), 'yes')
        self.assertEqual(r.body, b'method=GET query=from=redirect '
                                 b'uri=/cgi-bin/target.sh?from=redirect\n')

    def test_local_redirect_keeps_the_connection_usable(self):
        c = self.client()
        c.send(request_bytes('GET', '/cgi-bin/redirect_static.sh'))
        first = c.read_response()
        c.send(request_bytes('GET', '/cgi-bin/redirect_script.sh'))
        second = c.read_response()
        self.assertEqual((first.status, first.body), (200, STATIC))
        self.assertEqual(second.status, 200)
        self.assertTrue(second.body.startswith(b'method=GET'), second)

    def test_redirect_loop_ends_with_500(self):
        r = self.fetch('/cgi-bin/loop.sh')
        self.assertEqual(r.status, 500, r)
        self.assertLogged('Too many local redirects')

    def test_fields_passed_through_and_set_cookie_kept_twice(self):
        r = self.fetch('/cgi-bin/headers.sh')
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header('X-Custom'), 'custom value')
        self.assertEqual(r.all('Set-Cookie'), ['a=1', 'b=2'])
        self.assertEqual(r.header('Content-Type'), 'text/plain')
        self.assertEqual(r.body, b'body\n')

    def test_script_connection_and_transfer_encoding_ignored(self):
        c = self.client()
        c.send(request_bytes('GET', '/cgi-bin/hopbyhop.sh'))
        r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.all('Transfer-Encoding'), ['chunked'], r)
        self.assertEqual(r.all('Connection'), [])
        self.assertEqual(r.all('Keep-Alive'), [])
        self.assertEqual(r.body, b'plain body\n')
        self.assertTrue(r.complete)
        c.send(request_bytes('GET', '/cgi-bin/nolen.sh'))  # the script's "close" was ignored
        self.assertEqual(c.read_response().body, b'line one\nline two\n')

    def check_502(self, script, log_text):
        r = self.fetch('/cgi-bin/' + script)
        self.assertEqual(r.status, 502, r)
        self.assertLogged('CGI script /cgi-bin/%s: %s' % (script, log_text))

    def test_missing_blank_line_is_502(self):
        self.check_502('noblank.sh', 'incomplete header block')

    def test_malformed_header_line_is_502(self):
        self.check_502('malformed.sh', "malformed header line 'this line is not a header'")

    def test_no_output_is_502(self):
        self.check_502('silent.sh', 'no output')

    def test_header_block_over_64_kib_is_502(self):
        self.check_502('bighead.py', 'header block larger than 65536 bytes')

    def test_header_block_written_in_pieces(self):
        # The block arrives in two reads: fields parsed from the first are not repeated.
        r = self.fetch('/cgi-bin/pieces.sh')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.all('X-Early'), ['1'])
        self.assertEqual(r.all('Set-Cookie'), ['once=1'])
        self.assertEqual(r.body, b'body\n')

    def test_output_longer_than_content_length_is_cut(self):
        c = self.client()
        c.send(request_bytes('GET', '/cgi-bin/long.sh'))
        r = c.read_response()
        self.assertEqual((r.status, r.header('Content-Length'), r.body), (200, '4', b'tool'))
        self.assertLogged('CGI script /cgi-bin/long.sh: output longer than its Content-Length')
        c.send(request_bytes('GET', '/cgi-bin/withlen.sh'))  # nothing extra was sent
        self.assertEqual(c.read_response().body, b'exact\n')

    def test_output_shorter_than_content_length_closes(self):
        c = self.client()
        c.send(request_bytes('GET', '/cgi-bin/short.sh'))
        r = c.read_response()
        self.assertEqual((r.status, r.header('Content-Length')), (200, '100'))
        self.assertFalse(r.complete)
        self.assertEqual(r.body, b'only this\n')
        self.assertLogged('CGI script /cgi-bin/short.sh: output shorter than its Content-Length')


class FramingTest(GatewayCase):
    """How the response is delimited, and nph- scripts."""

    @classmethod
    def setUpClass(cls):
        cls.root = make_docroot(cls)
        cls.server, cls.port = start_cgi_server(cls, cls.root, '--protocol', 'HTTP/1.1')

    def test_keepalive_without_length_is_chunked_and_reusable(self):
        c = self.client()
        for _ in range(2):
            c.send(request_bytes('GET', '/cgi-bin/nolen.sh'))
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertTrue(r.chunked, r)
            self.assertIsNone(r.header('Content-Length'))
            self.assertTrue(r.complete)
            self.assertEqual(r.body, b'line one\nline two\n')
        self.assertTrue(lib.is_open(c.sock, 0.2))

    def test_script_content_length_is_used(self):
        c = self.client()
        c.send(request_bytes('GET', '/cgi-bin/withlen.sh'))
        r = c.read_response()
        self.assertEqual(r.header('Content-Length'), '6')
        self.assertIsNone(r.header('Transfer-Encoding'))
        self.assertEqual(r.body, b'exact\n')
        c.send(request_bytes('GET', '/cgi-bin/withlen.sh'))
        self.assertEqual(c.read_response().body, b'exact\n')

    def test_http10_no_chunking_and_closed(self):
        c = self.client()
        c.send(request_bytes('GET', '/cgi-bin/nolen.sh', 'HTTP/1.0'))
        r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header('Transfer-Encoding'))
        self.assertEqual(r.body, b'line one\nline two\n')  # read until the server closed
        self.assertTrue(c.eof)

    def test_head_runs_the_script_but_sends_no_body(self):
        token = uuid.uuid4().hex
        effect = os.path.join(self.root, 'spool', 'ran-HEAD-token=' + token)
        c = self.client()
        c.send(request_bytes('HEAD', '/cgi-bin/effect.sh?token=' + token))
        r = c.read_response('HEAD')
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header('Transfer-Encoding'))
        self.assertTrue(os.path.exists(effect), 'the script did not run for HEAD')
        # Nothing but the head was sent: the next response starts right after it.
        c.send(request_bytes('GET', '/cgi-bin/withlen.sh'))
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, b'exact\n'))

    def test_head_with_script_content_length_keeps_the_connection(self):
        c = self.client()
        c.send(request_bytes('HEAD', '/cgi-bin/withlen.sh'))
        r = c.read_response('HEAD')
        self.assertEqual((r.status, r.header('Content-Length')), (200, '6'))
        self.assertTrue(lib.is_open(c.sock, 0.3), 'the server closed the connection')
        c.send(request_bytes('GET', '/cgi-bin/withlen.sh'))
        self.assertEqual(c.read_response().body, b'exact\n')

    def test_head_local_redirect_sends_no_body(self):
        c = self.client()
        c.send(request_bytes('HEAD', '/cgi-bin/redirect_static.sh'))
        r = c.read_response('HEAD')
        self.assertEqual((r.status, r.header('Content-Length')), (200, str(len(STATIC))))
        c.send(request_bytes('GET', '/cgi-bin/withlen.sh'))
        r = c.read_response()
        self.assertEqual((r.status, r.body), (200, b'exact\n'))

    def test_204_with_script_content_length(self):
        c = self.client()
        c.send(request_bytes('GET', '/cgi-bin/status204.sh'))
        r = c.read_response()
        self.assertEqual(r.status, 204)
        self.assertIsNone(r.header('Content-Length'))
        self.assertTrue(lib.is_open(c.sock, 0.3), 'the server closed the connection')

    def test_status_1xx_is_502(self):
        c = self.client()
        c.send(request_bytes('GET', '/cgi-bin/status101.sh'))
        r = c.read_head(timeout=3.0)
        self.assertEqual(r.status, 502, r)

    def test_nph_script_passed_through_raw(self):
        c = self.client()
        c.send(request_bytes('GET', '/cgi-bin/nph-test.sh'))
        data, how = lib.recv_until_close(c.sock, 5.0)
        self.assertEqual(how, 'eof')
        self.assertEqual(data, b'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n'
                               b'X-Nph: raw\r\n\r\nnph body\n')


class PassThroughTest(GatewayCase):
    """cgi_parse_headers = false: Python's "200 Script output follows"."""

    @classmethod
    def setUpClass(cls):
        cls.root = make_docroot(cls)
        cls.server, cls.port = start_cgi_server(cls, cls.root, '--protocol', 'HTTP/1.1',
                                                '--pass-through', '--cgi-timeout-ms', '500')

    def test_script_output_follows_and_connection_closes(self):
        c = self.client()
        c.send(request_bytes('GET', '/cgi-bin/passthrough.sh'))
        data, how = lib.recv_until_close(c.sock, 5.0)
        self.assertEqual(how, 'eof')
        match = re.match(rb'HTTP/1\.[01] 200 Script output follows\r\n'
                         rb'Server: [^\r\n]*\r\nDate: [^\r\n]*\r\n', data)
        self.assertTrue(match, data)
        self.assertEqual(data[match.end():], b'Status: 404 Ignored\r\nContent-Type: text/plain'
                                             b'\r\n\r\nraw output\n')


    def test_timeout_without_output_sends_one_status_line(self):
        c = self.client()
        c.send(request_bytes('GET', '/cgi-bin/slow_timeout.sh'))
        data, how = lib.recv_until_close(c.sock, 5.0)
        self.assertEqual(how, 'eof')
        self.assertTrue(data.startswith(b'HTTP/1.1 200 Script output follows\r\n'), data)
        self.assertEqual(data.count(b'HTTP/1.'), 1, data)
        self.assertGone('timeout', 1.0)


class StreamingTest(GatewayCase):
    """Request bodies into the script and output to the client, as they come."""

    SIZE = 5 * 1024 * 1024 + 12345

    @classmethod
    def setUpClass(cls):
        cls.root = make_docroot(cls)
        cls.server, cls.port = start_cgi_server(cls, cls.root, '--protocol', 'HTTP/1.1')
        cls.payload = os.urandom(cls.SIZE)
        cls.digest = hashlib.sha256(cls.payload).hexdigest()

    def check_upload(self, r, content_type=None):
        self.assertEqual(r.status, 200, r)
        expected = 'sha256=%s\nread=%d\ncontent_length=%d\n' % (self.digest, self.SIZE,
                                                                 self.SIZE)
        self.assertTrue(r.body.decode().startswith(expected), r.body)
        if content_type:
            self.assertIn('content_type=%s\n' % content_type, r.body.decode())

    def send_in_thread(self, sock, data):
        failure = []

        def run():
            try:
                sock.sendall(data)
            except OSError as e:
                failure.append(e)
        t = threading.Thread(target=run, daemon=True)
        t.start()
        self.addCleanup(t.join, 10)
        return t, failure

    def test_chunked_upload_raw(self):
        c = self.client(timeout=20)
        head = request_bytes('POST', '/cgi-bin/upload.py', headers=[
            ('Transfer-Encoding', 'chunked'), ('Content-Type', 'application/x-test')])
        pieces = [head]
        sizes = [1, 100, 4096, 65536, 1000000]
        offset = i = 0
        while offset < self.SIZE:
            n = min(sizes[i % len(sizes)], self.SIZE - offset)
            pieces.append(b'%x\r\n' % n + self.payload[offset:offset + n] + b'\r\n')
            offset += n
            i += 1
        pieces.append(b'0\r\n\r\n')
        t, failure = self.send_in_thread(c.sock, b''.join(pieces))
        r = c.read_response(timeout=20)
        t.join(10)
        self.assertEqual(failure, [])
        self.check_upload(r, 'application/x-test')

    def test_content_length_upload_raw(self):
        c = self.client(timeout=20)
        data = request_bytes('POST', '/cgi-bin/upload.py', body=self.payload)
        t, failure = self.send_in_thread(c.sock, data)
        r = c.read_response(timeout=20)
        t.join(10)
        self.assertEqual(failure, [])
        self.check_upload(r)

    def expect_100(self, framing_headers, body):
        c = self.client(timeout=20)
        c.send(request_bytes('POST', '/cgi-bin/upload.py', headers=framing_headers + [
            ('Expect', '100-continue')]))
        try:
            interim = c.read_head(timeout=1.5)  # the body is not sent before this arrives
        except socket.timeout:
            self.fail('no 100 Continue before the body was sent')
        self.assertEqual(interim.status, 100, interim)
        t, failure = self.send_in_thread(c.sock, body)
        r = c.read_response(timeout=20)
        t.join(10)
        self.assertEqual(failure, [])
        self.check_upload(r)

    def test_expect_100_continue_arrives_before_a_content_length_body(self):
        self.expect_100([('Content-Length', str(self.SIZE))], self.payload)

    def test_expect_100_continue_arrives_before_a_chunked_body(self):
        self.expect_100([('Transfer-Encoding', 'chunked')],
                        b'%x\r\n' % self.SIZE + self.payload + b'\r\n0\r\n\r\n')

    def curl_upload(self, *extra):
        curl = lib.require_tool('curl')
        path = os.path.join(self.root, 'spool', 'payload-' + uuid.uuid4().hex)
        with open(path, 'wb') as f:
            f.write(self.payload)
        self.addCleanup(os.unlink, path)
        result = lib.run_program([curl, '-sS', '--max-time', '20', '-H',
                                  'Content-Type: application/octet-stream'] + list(extra)
                                 + ['--data-binary', '@' + path, '-w', 'status=%{http_code}',
                                    'http://127.0.0.1:%d/cgi-bin/upload.py' % self.port],
                                 timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('status=200', result.stdout)
        expected = 'sha256=%s\nread=%d\ncontent_length=%d\n' % (self.digest, self.SIZE,
                                                                 self.SIZE)
        self.assertTrue(result.stdout.startswith(expected), result.stdout)

    def test_curl_upload_with_expect_100_continue(self):
        # curl sends Expect: 100-continue for a body this large (said here explicitly), and
        # sends the body anyway after 1 s without an answer (see the test above for that).
        self.curl_upload('-H', 'Expect: 100-continue')

    def test_curl_chunked_upload(self):
        self.curl_upload('-H', 'Transfer-Encoding: chunked', '-H', 'Expect:')

    def test_output_arrives_progressively(self):
        c = self.client()
        start = time.monotonic()
        c.send(request_bytes('GET', '/cgi-bin/progressive.sh', 'HTTP/1.0'))
        got = bytearray()
        while b'first\n' not in got:
            chunk = c.sock.recv(4096)
            self.assertTrue(chunk, 'closed before the first line')
            got += chunk
        first_at = time.monotonic() - start
        data, how = lib.recv_until_close(c.sock, 5.0)
        done_at = time.monotonic() - start
        self.assertEqual(how, 'eof')
        self.assertLess(first_at, 0.8, 'the first line waited for the script to end')
        self.assertGreater(done_at, 0.9)
        self.assertTrue((bytes(got) + data).endswith(b'\r\n\r\nfirst\nsecond\n'))


class BigOutputTest(GatewayCase):
    """A 120 MB response streamed through bounded memory, on a server of its own."""

    @classmethod
    def setUpClass(cls):
        cls.root = make_docroot(cls)
        cls.server, cls.port = start_cgi_server(cls, cls.root, '--protocol', 'HTTP/1.1')

    def test_120_mb_streamed_in_bounded_memory(self):
        self.assertEqual(self.fetch('/cgi-bin/nolen.sh').status, 200)  # warm up
        before = status_field(self.server.pid, 'VmHWM')
        c = self.client(timeout=30)
        c.send(request_bytes('GET', '/cgi-bin/big.sh', 'HTTP/1.0'))
        head = c.read_head()
        self.assertEqual(head.status, 200)
        time.sleep(0.3)  # a server that buffers would have read ahead by now
        total = len(c.buffer)
        buf = bytearray(1 << 20)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            n = c.sock.recv_into(buf)
            if not n:
                break
            total += n
        self.assertEqual(total, BIG_OUTPUT)
        grown = status_field(self.server.pid, 'VmHWM') - before
        self.assertLess(grown, 16 * 1024, 'VmHWM grew by %d KiB' % grown)


class ProcessTest(GatewayCase):
    """The script's process: environment, descriptors, user, stderr, exit, errors."""

    @classmethod
    def setUpClass(cls):
        cls.root = make_docroot(cls)
        # HTTPS=on in the server's own environment must not reach scripts of plain HTTP.
        cls.server, cls.port = start_cgi_server(cls, cls.root, '--protocol', 'HTTP/1.1',
                                                env=dict(os.environ, HTTPS='on'))

    def env_of(self, target, version='HTTP/1.1', headers=()):
        c = self.client()
        c.send(request_bytes('GET', target, version, list(headers) +
                             ([('Connection', 'close')] if version == 'HTTP/1.1' else [])))
        r = c.read_response()
        self.assertEqual(r.status, 200, r)
        return json.loads(r.body), c.sock.getsockname()[1]

    def test_environment(self):
        target = '/cgi-bin/env.py/some%20dir/file.txt?q=1&r=two'
        data, client_port = self.env_of(target, headers=[
            ('Proxy', 'evil'),
            ('Authorization', 'Basic ' + base64.b64encode(b'alice:se:cret').decode()),
            ('Proxy-Authorization', 'Basic Zm9vOmJhcg=='),
            ('X_Spoof', 'evil'), ('X-Spoof', 'good'),
            ('X-Multi', 'a'), ('X-Multi', 'b'),
            ('Cookie', 'c1=1'), ('Cookie', 'c2=2'),
            ('User-Agent', 'cgitest/1.0'), ('X-Custom-Thing', 'hi')])
        env = data['env']
        self.assertNotIn('HTTP_PROXY', env, 'httpoxy')
        self.assertNotIn('HTTPS', env, 'inherited from the server over plain HTTP')
        self.assertNotIn('HTTP_AUTHORIZATION', env)
        self.assertNotIn('HTTP_PROXY_AUTHORIZATION', env)
        self.assertEqual(env.get('AUTH_TYPE'), 'Basic')
        self.assertEqual(env.get('REMOTE_USER'), 'alice')
        self.assertEqual(env.get('HTTP_X_SPOOF'), 'good', 'a header with "_" was not dropped')
        self.assertEqual(env.get('HTTP_X_MULTI'), 'a, b')
        self.assertEqual(env.get('HTTP_COOKIE'), 'c1=1; c2=2')
        self.assertEqual(env.get('HTTP_USER_AGENT'), 'cgitest/1.0')
        self.assertEqual(env.get('HTTP_X_CUSTOM_THING'), 'hi')
        self.assertEqual(env.get('HTTP_HOST'), '127.0.0.1')
        self.assertEqual(env.get('HTTP_CONNECTION'), 'close')
        expected = {
            'REQUEST_URI': target,
            'REQUEST_METHOD': 'GET',
            'SCRIPT_NAME': '/cgi-bin/env.py',
            'SCRIPT_FILENAME': os.path.join(self.root, 'cgi-bin', 'env.py'),
            'DOCUMENT_ROOT': self.root,
            'REMOTE_ADDR': '127.0.0.1',
            'REMOTE_PORT': str(client_port),
            'SERVER_ADDR': '127.0.0.1',
            'SERVER_PORT': str(self.port),
            'REQUEST_SCHEME': 'http',
            'REDIRECT_STATUS': '200',
            'GATEWAY_INTERFACE': 'CGI/1.1',
            'SERVER_PROTOCOL': 'HTTP/1.1',
            'PATH_INFO': '/some dir/file.txt',
            'PATH_TRANSLATED': os.path.join(self.root, 'some dir', 'file.txt'),
            'QUERY_STRING': 'q=1&r=two',
            'CONTENT_LENGTH': '',
        }
        self.assertEqual({k: env.get(k) for k in expected}, expected)
        self.assertEqual(data['argv'][1:], [], 'a query with "=" is not an indexed search')
        self.assertTrue(env.get('SERVER_SOFTWARE', '').startswith('cgihttp/'))

    def test_isindex_query_becomes_arguments(self):
        data, _ = self.env_of('/cgi-bin/env.py?hello+big%20world+%2B', 'HTTP/1.0')
        self.assertEqual(data['argv'][1:], ['hello', 'big world', '+'])
        self.assertEqual(data['env']['QUERY_STRING'], 'hello+big%20world+%2B')
        self.assertEqual(data['env']['SERVER_PROTOCOL'], 'HTTP/1.0')

    def test_working_directory_is_the_scripts(self):
        data, _ = self.env_of('/cgi-bin/env.py')
        self.assertEqual(data['cwd'], os.path.join(self.root, 'cgi-bin'))

    def test_no_server_descriptor_leaks_into_the_script(self):
        r = self.fetch('/cgi-bin/fds.py')
        self.assertEqual(r.status, 200, r)
        fds = dict(line.split(' ', 1) for line in r.body.decode().split('\n') if line)
        extra = {fd: target for fd, target in fds.items() if fd not in ('0', '1', '2')}
        # The only other one is the directory listing's own, closed by the time of readlink.
        self.assertLessEqual(len(extra), 1, fds)
        self.assertEqual(list(extra.values()), ['(closed)'] * len(extra), fds)
        self.assertEqual(fds.get('0'), '/dev/null', fds)
        self.assertTrue(fds.get('1', '').startswith('pipe:'), fds)
        self.assertTrue(fds.get('2', '').startswith('pipe:'), fds)

    def test_runs_as_nobody_when_root(self):
        r = self.fetch('/cgi-bin/ids.sh')
        self.assertEqual(r.status, 200, r)
        ids = dict(line.split('=', 1) for line in r.body.decode().split('\n') if line)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam('nobody')
            self.assertEqual(ids, {'uid': str(nobody.pw_uid), 'gid': str(nobody.pw_gid),
                                   'groups': str(nobody.pw_gid)})
        else:
            self.assertEqual(ids['uid'], str(os.geteuid()))

    def test_stderr_lines_logged_with_the_script_name(self):
        r = self.fetch('/cgi-bin/stderr.sh')
        self.assertEqual((r.status, r.body), (200, b'ok\n'))
        self.assertLogged('CGI script /cgi-bin/stderr.sh: first complaint')
        self.assertLogged('CGI script /cgi-bin/stderr.sh: second complaint')

    def test_crash_before_headers_is_502(self):
        r = self.fetch('/cgi-bin/segv.sh')
        self.assertEqual(r.status, 502, r)
        self.assertLogged('CGI script /cgi-bin/segv.sh killed by signal 11')

    def test_exit_1_after_a_valid_response(self):
        r = self.fetch('/cgi-bin/exit1.sh')
        self.assertEqual((r.status, r.body), (200, b'delivered\n'))
        self.assertTrue(r.complete)
        self.assertLogged('CGI script /cgi-bin/exit1.sh exit code 1')

    def test_non_executable_script_is_403(self):
        r = self.fetch('/cgi-bin/noexec.sh')
        self.assertEqual((r.status, r.reason),
                         (403, "CGI script is not executable ('/cgi-bin/noexec.sh')"))

    def test_directory_is_403(self):
        r = self.fetch('/cgi-bin/subdir')
        self.assertEqual((r.status, r.reason),
                         (403, "CGI script is not a plain file ('/cgi-bin/subdir')"))

    def test_missing_script_is_404(self):
        r = self.fetch('/cgi-bin/missing.sh')
        self.assertEqual((r.status, r.reason),
                         (404, "No such CGI script ('/cgi-bin/missing.sh')"))

    def test_client_disconnect_kills_the_script(self):
        c = self.client()
        c.send(request_bytes('GET', '/cgi-bin/slow_disconnect.sh'))
        self.assertTrue(wait_for_processes(marker('disconnect'), True, 5.0),
                        'the script did not start')
        c.close()
        start = time.monotonic()
        self.assertGone('disconnect', 1.5)
        self.assertLess(time.monotonic() - start, 1.5)
        self.assertLogged('the client went away while CGI script /cgi-bin/slow_disconnect.sh ran')
        self.assertNoZombies()


    def test_client_disconnect_is_not_answered_with_500(self):
        log_start = len(self.server.stderr.text())
        c = self.client()
        c.send(request_bytes('GET', '/cgi-bin/slow_disconnect.sh'))
        self.assertTrue(wait_for_processes(marker('disconnect'), True, 5.0),
                        'the script did not start')
        c.close()
        self.assertLogged('the client went away while CGI script /cgi-bin/slow_disconnect.sh ran')
        self.assertGone('disconnect', 1.5)
        time.sleep(0.3)
        log = self.server.stderr.text()[log_start:]
        self.assertNotIn('The handler sent no response', log)
        self.assertNotIn('" 500 ', log)


class TimeLimitTest(GatewayCase):
    """cgi_timeout = 500 ms (and a short exit grace): the script's group is killed."""

    @classmethod
    def setUpClass(cls):
        cls.root = make_docroot(cls)
        cls.server, cls.port = start_cgi_server(cls, cls.root, '--protocol', 'HTTP/1.1',
                                                '--cgi-timeout-ms', '500',
                                                '--exit-grace-ms', '200')

    def check_killed(self, script, names):
        start = time.monotonic()
        r = self.fetch('/cgi-bin/' + script)
        elapsed = time.monotonic() - start
        self.assertEqual(r.status, 504, r)
        self.assertLess(elapsed, 3.0)
        self.assertGreater(elapsed, 0.4)
        for name in names:
            self.assertGone(name, 1.0)
        self.assertNoZombies()
        self.assertLogged('CGI script /cgi-bin/%s: time limit reached, killed' % script)

    def test_sleeping_script_gets_504_and_is_gone(self):
        self.check_killed('slow_timeout.sh', ['timeout'])

    def test_background_grandchild_holding_stdout_is_killed(self):
        self.check_killed('slow_grandchild.sh', ['grandchild-bg', 'grandchild-fg'])

    def test_script_ignoring_sigterm_is_killed(self):
        self.check_killed('slow_trap.sh', ['trap'])

    def test_timeout_after_output_started_cuts_the_response(self):
        c = self.client()
        c.send(request_bytes('GET', '/cgi-bin/slow_started.sh'))
        r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertTrue(r.chunked)
        self.assertFalse(r.complete, 'a cut response must not end like a complete one')
        self.assertEqual(r.body, b'partial\n')
        self.assertGone('started', 1.0)

    def test_grandchild_left_after_exit_is_killed_and_response_delivered(self):
        start = time.monotonic()
        r = self.fetch('/cgi-bin/leftover.sh')
        self.assertEqual((r.status, r.body), (200, b'done before the grandchild\n'))
        self.assertTrue(r.complete)
        self.assertLess(time.monotonic() - start, 2.0)
        self.assertGone('leftover', 1.0)
        self.assertNoZombies()


class ConcurrencyCapTest(GatewayCase):
    """max_cgi_processes = 2, cgi_queue_timeout = 300 ms."""

    @classmethod
    def setUpClass(cls):
        cls.root = make_docroot(cls)
        cls.server, cls.port = start_cgi_server(cls, cls.root, '--protocol', 'HTTP/1.1',
                                                '--max-cgi', '2', '--cgi-queue-ms', '300')

    def start_slow_script(self, results):
        """Runs slow_cap.sh for a client on a thread (returned, started); its reply goes to
        `results`."""
        def slow():
            c = Client(self.port)
            try:
                c.send(request_bytes('GET', '/cgi-bin/slow_cap.sh', 'HTTP/1.0'))
                results.append(c.read_response())
            finally:
                c.close()
        thread = threading.Thread(target=slow, daemon=True)
        thread.start()
        return thread

    def test_third_script_gets_503_with_retry_after(self):
        results = []
        threads = [self.start_slow_script(results) for _ in range(2)]
        # Both scripts are in their `sleep 1` (child processes of the two sh scripts).
        deadline = time.monotonic() + 3
        while len(processes_with(os.path.join(self.root, 'cgi-bin', 'slow_cap.sh'))) < 2:
            self.assertLess(time.monotonic(), deadline, 'the slow scripts did not start')
            time.sleep(0.01)
        start = time.monotonic()
        r = self.fetch('/cgi-bin/nolen.sh')
        waited = time.monotonic() - start
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.header('Retry-After'), '1')
        self.assertGreater(waited, 0.25, 'did not wait in the queue')
        for t in threads:
            t.join(10)
        self.assertEqual([(x.status, x.body) for x in results], [(200, b'slow done\n')] * 2)
        self.assertEqual(self.fetch('/cgi-bin/nolen.sh').status, 200)  # slots were released
        self.assertLogged('CGI script /cgi-bin/nolen.sh: too many scripts running')

    def test_local_redirect_to_a_script_needs_one_slot(self):
        t = self.start_slow_script([])
        self.addCleanup(t.join, 10)
        deadline = time.monotonic() + 3
        while not processes_with(os.path.join(self.root, 'cgi-bin', 'slow_cap.sh')):
            self.assertLess(time.monotonic(), deadline, 'the slow script did not start')
            time.sleep(0.01)
        r = self.fetch('/cgi-bin/redirect_capped.sh')  # one slot free: enough for one script
        self.assertEqual((r.status, r.body), (200, b'line one\nline two\n'))


class DemoTest(GatewayCase):
    """The demo cgihttpserver serves CGIRequestHandler (HTTP/1.0 by default)."""

    @classmethod
    def setUpClass(cls):
        cls.root = make_docroot(cls)
        cls.server = lib.ServerProcess([lib.binary('CGIHTTP_DEMO'), '-b', '127.0.0.1', '-d',
                                        cls.root, '0'],
                                       ready=r'Serving HTTP on 127\.0\.0\.1 port (\d+) ')
        cls.addClassCleanup(cls.server.stop)
        cls.port = int(cls.server.ready_match.group(1))

    def test_demo_runs_scripts(self):
        r = self.fetch('/cgi-bin/status404.sh', version='HTTP/1.0')
        self.assertEqual((r.status, r.reason, r.body), (404, 'Not Here', b'not here\n'))
        r = self.fetch('/cgi-bin/nolen.sh')  # HTTP/1.1 request, HTTP/1.0 server: no chunks
        self.assertEqual((r.version, r.status, r.body),
                         ('HTTP/1.0', 200, b'line one\nline two\n'))
        self.assertIsNone(r.header('Transfer-Encoding'))
        self.assertEqual(self.fetch('/static.txt').body, STATIC)


class FaultInjectionTest(GatewayCase):
    """Every fault at once on one server; then its descriptors are back to their baseline
    and it has no zombie children."""

    @classmethod
    def setUpClass(cls):
        cls.root = make_docroot(cls)
        cls.server, cls.port = start_cgi_server(cls, cls.root, '--protocol', 'HTTP/1.1',
                                                '--cgi-timeout-ms', '1000',
                                                '--exit-grace-ms', '200',
                                                '--max-cgi', '2', '--cgi-queue-ms', '200')

    def test_no_leaks_after_faults(self):
        # Warm up: everything opened once and kept (e.g. /dev/null) is in the baseline.
        self.assertEqual(self.fetch('/cgi-bin/nolen.sh').status, 200)
        self.assertEqual(self.fetch('/cgi-bin/upload.py', 'POST', body=b'x' * 1000).status, 200)
        self.assertEqual(self.fetch('/cgi-bin/upload.py', 'POST', body=b'5\r\nhello\r\n0\r\n\r\n',
                                    headers=[('Transfer-Encoding', 'chunked')]).status, 200)
        self.assertEqual(self.fetch('/static.txt').status, 200)
        baseline = stable_fd_count(self.server.pid)
        baseline_targets = fd_targets(self.server.pid)

        # Faults that complete a request.
        for target, status in [('/cgi-bin/fault_f-timeout.sh', 504),
                               ('/cgi-bin/fault_f-grandchild.sh', 504),
                               ('/cgi-bin/slow_trap.sh', 504),
                               ('/cgi-bin/segv.sh', 502), ('/cgi-bin/malformed.sh', 502),
                               ('/cgi-bin/silent.sh', 502), ('/cgi-bin/bighead.py', 502),
                               ('/cgi-bin/noblank.sh', 502),
                               ('/cgi-bin/redirect_static.sh', 200),
                               ('/cgi-bin/missing.sh', 404), ('/cgi-bin/noexec.sh', 403),
                               ('/cgi-bin/subdir', 403), ('/cgi-bin/exit1.sh', 200),
                               ('/cgi-bin/leftover.sh', 200)]:
            self.assertEqual(self.fetch(target).status, status, target)
        c = self.client()
        c.send(request_bytes('GET', '/cgi-bin/slow_started.sh'))
        self.assertFalse(c.read_response().complete)
        c.send(request_bytes('GET', '/cgi-bin/nph-test.sh'))
        lib.recv_until_close(c.sock, 3.0)
        c.close()

        # The client goes away: while the script runs, inside an upload, inside a chunked
        # upload, and right after sending the request.
        c = Client(self.port)
        c.send(request_bytes('GET', '/cgi-bin/fault_f-disconnect.sh'))
        self.assertTrue(wait_for_processes(marker('f-disconnect'), True, 5.0))
        c.close()
        c = Client(self.port)
        c.send(request_bytes('POST', '/cgi-bin/fault_f-upload.sh',
                             headers=[('Content-Length', '1000000')]) + b'y' * 50000)
        self.assertTrue(wait_for_processes(marker('f-upload'), True, 5.0))
        c.close()
        c = Client(self.port)
        c.send(request_bytes('POST', '/cgi-bin/upload.py', headers=[
            ('Transfer-Encoding', 'chunked')]) + b'10000\r\n' + b'z' * 30000)
        time.sleep(0.2)
        c.close()
        c = Client(self.port)
        c.send(request_bytes('GET', '/cgi-bin/slow_cap.sh'))
        c.close()
        slow_cap = os.path.join(self.root, 'cgi-bin', 'slow_cap.sh')
        self.assertEqual(wait_for_processes(slow_cap, False, 2.0), [])

        # Too many scripts: two hold the slots, a third gets 503.
        holders = []
        for name in ('f-cap1', 'f-cap2'):
            h = self.client()
            h.send(request_bytes('GET', '/cgi-bin/fault_%s.sh' % name))
            holders.append(h)
            self.assertTrue(wait_for_processes(marker(name), True, 5.0))
        self.assertEqual(self.fetch('/cgi-bin/nolen.sh').status, 503)
        for h in holders:
            self.assertEqual(h.read_response().status, 504)
            h.close()

        for name in ('f-timeout', 'f-grandchild', 'f-grandchild-bg', 'trap', 'started',
                     'leftover', 'f-disconnect', 'f-upload', 'f-cap1', 'f-cap2'):
            self.assertGone(name, 2.0)
        self.assertNoZombies(timeout=2.0)
        self.assertEqual(self.fetch('/cgi-bin/nolen.sh').status, 200)  # still serving
        count = settled_fd_count(self.server.pid, baseline + 2)
        self.assertLessEqual(count, baseline + 2,
                             'descriptors: %d at baseline, %d now\nbaseline: %s\nnow: %s'
                             % (baseline, count, baseline_targets, fd_targets(self.server.pid)))

class BackpressureTest(GatewayCase):
    """A client that stops reading stops the script (its writes block, the server's memory
    stays flat), and a script that ignores an upload still gets its answer to the client."""

    @classmethod
    def setUpClass(cls):
        cls.root = make_docroot(cls)
        cls.server, cls.port = start_cgi_server(cls, cls.root, '--protocol', 'HTTP/1.1')

    def test_endless_output_to_a_client_that_stops_reading(self):
        self.assertEqual(self.fetch('/cgi-bin/nolen.sh').status, 200)  # warm up
        memory_before = status_field(self.server.pid, 'VmHWM')
        c = self.client()
        c.send(request_bytes('GET', '/cgi-bin/endless.sh'))
        self.assertEqual(c.read_head().status, 200)
        found = wait_for_processes(marker('endless'), True, 5.0)
        self.assertTrue(found)
        pid = found[0][0]
        # Not reading: the pipe and socket buffers fill, then the script's writes block.
        deadline = time.monotonic() + 10.0
        written = io_written(pid)
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = io_written(pid)
            if now == written:
                break
            written = now
        else:
            self.fail('the script kept writing to a client that reads nothing')
        self.assertLess(written, 64 << 20, 'the script wrote %d bytes ahead' % written)
        grown = status_field(self.server.pid, 'VmHWM') - memory_before
        self.assertLess(grown, 8 * 1024, 'VmHWM grew by %d KiB' % grown)
        # Reading again lets it go on.
        received = 0
        c.sock.settimeout(5.0)
        while received < 16 << 20:
            received += len(c.sock.recv(1 << 20))
        self.assertGreater(io_written(pid), written)
        c.close()
        self.assertGone('endless', 3.0)
        self.assertNoZombies()

    def upload_to_a_script_that_ignores_it(self, size, chunked):
        c = self.client(timeout=20.0)
        body = b'u' * size
        if chunked:
            head = request_bytes('POST', '/cgi-bin/ignores_body.sh',
                                 headers=[('Transfer-Encoding', 'chunked')])
            payload = b'%x\r\n%s\r\n0\r\n\r\n' % (size, body)
        else:
            head = request_bytes('POST', '/cgi-bin/ignores_body.sh',
                                 headers=[('Content-Length', str(size))])
            payload = body
        c.send(head)
        failures = []

        def send_body():  # as curl does: the answer is read while the body goes out
            try:
                c.sock.sendall(payload)
            except OSError as e:
                failures.append(e)
        sender = threading.Thread(target=send_body)
        sender.start()
        reply = c.read_response()
        sender.join(20.0)
        self.assertFalse(sender.is_alive(), 'the upload never ended')
        return reply, failures

    def test_script_that_ignores_an_upload_still_answers(self):
        for size, chunked in [(100_000, False), (8 << 20, False), (8 << 20, True)]:
            with self.subTest(size=size, chunked=chunked):
                reply, failures = self.upload_to_a_script_that_ignores_it(size, chunked)
                self.assertEqual((reply.status, reply.body), (200, b'ignored\n'))
                self.assertEqual(failures, [], 'the upload was cut')
        self.assertEqual(self.fetch('/cgi-bin/nolen.sh').status, 200)
        self.assertNoZombies()

    def test_curl_upload_to_a_script_that_ignores_it(self):
        curl = lib.require_tool('curl')
        path = os.path.join(self.root, 'spool', 'upload.bin')
        with open(path, 'wb') as f:
            f.write(b'c' * (8 << 20))
        # Without Expect the body is sent at once; with it, the script answers first.
        for expect in ('Expect:', 'Expect: 100-continue'):
            with self.subTest(expect=expect):
                result = lib.run_program(
                    [curl, '-sS', '--max-time', '20', '--data-binary', '@' + path, '-H', expect,
                     'http://127.0.0.1:%d/cgi-bin/ignores_body.sh' % self.port], timeout=30)
                self.assertEqual((result.returncode, result.stdout), (0, 'ignored\n'),
                                 result.stderr)


class ResourceExhaustionTest(GatewayCase):
    """Out of descriptors (the server's RLIMIT_NOFILE lowered while it runs) or out of
    processes (RLIMIT_NPROC): new connections, scripts, files and listings get a 503 and a
    log line, nothing leaks, and everything is served again once the limit is back."""

    @classmethod
    def setUpClass(cls):
        cls.root = make_docroot(cls)
        for i in range(3):
            with open(os.path.join(cls.root, 'fresh%d.txt' % i), 'wb') as f:
                f.write(STATIC)
        os.mkdir(os.path.join(cls.root, 'listed'))
        # UBSan's vptr check needs a pipe to probe memory: with no descriptor left it reports
        # every virtual call as invalid. Only that check is turned off, in this server only.
        suppressions = os.path.join(cls.root, 'ubsan.supp')
        with open(suppressions, 'w') as f:
            f.write('vptr_check:*\n')
        env = dict(os.environ)
        env['UBSAN_OPTIONS'] = ' '.join(filter(None, [
            env.get('UBSAN_OPTIONS', ''), 'suppressions=' + suppressions]))
        cls.server, cls.port = start_cgi_server(cls, cls.root, '--protocol', 'HTTP/1.1',
                                                env=env)
        cls.server.tolerate_vptr_reports = True  # stop() checks for any other report

    def lower_limit(self, which, soft):
        """Sets the server's soft limit; the original comes back at cleanup if not before."""
        original = resource.prlimit(self.server.pid, which)
        resource.prlimit(self.server.pid, which, (soft, original[1]))
        self.addCleanup(resource.prlimit, self.server.pid, which, original)
        return original

    def test_out_of_descriptors(self):
        pid = self.server.pid
        # Warm up: what is opened once (the scripts' /dev/null, cached files) is in the baseline.
        self.assertEqual(self.fetch('/cgi-bin/nolen.sh').status, 200)
        self.assertEqual(self.fetch('/static.txt').status, 200)
        baseline = stable_fd_count(pid)
        # The lowest limit that leaves 12 descriptors free (inherited ones may sit higher).
        used = {int(fd) for fd in os.listdir('/proc/%d/fd' % pid)}
        limit = 0
        while limit - len([fd for fd in used if fd < limit]) < 12:
            limit += 1
        original = self.lower_limit(resource.RLIMIT_NOFILE, limit)

        # Connections sending a request head slowly take the descriptors left; the first
        # one that does not fit gets 503 at once rather than waiting in the backlog.
        idle, refused = [], None
        for _ in range(20):
            c = self.client(timeout=5.0)
            c.send(b'GET /static.txt HTTP/1.1\r\n')
            deadline = time.monotonic() + 5.0
            while fd_count(pid) <= baseline + len(idle) and time.monotonic() < deadline:
                if select.select([c.sock], [], [], 0.02)[0]:
                    refused = c.read_response()
                    break
            if refused:
                break
            self.assertGreater(fd_count(pid), baseline + len(idle), 'neither accepted nor refused')
            idle.append(c)
        self.assertIsNotNone(refused, 'never ran out of descriptors')
        self.assertEqual((refused.status, refused.header('Retry-After'), refused.body),
                         (503, '1', b''))
        self.assertLogged('503 to a new connection: out of file descriptors')
        self.assertGreaterEqual(len(idle), 10)
        full = stable_fd_count(pid)

        # With `free` descriptors left, a connection takes one and the next step fails: the
        # file's open; the script's (it is opened to be checked), then, with more free, the
        # user lookup (as root), its pipes..., until the script runs.
        free = 0

        def release(count):
            nonlocal free
            while free < count:
                idle.pop().close()
                free += 1
                self.assertLessEqual(settled_fd_count(pid, full - free), full - free)

        for target, log in [('/fresh0.txt', 'opening %s/fresh0.txt' % self.root),
                            ('/listed/', 'opening %s/listed' % self.root),
                            ('/cgi-bin/nolen.sh', 'opening %s/cgi-bin/nolen.sh' % self.root)]:
            with self.subTest(target=target):
                release(1)
                reply = self.fetch(target)
                self.assertEqual(reply.status, 503, self.server.stderr.text()[-2000:])
                self.assertIn(b'Server out of resources', reply.body)
                self.assertLogged('Out of resources: ' + log)
                self.assertLessEqual(settled_fd_count(pid, full - free), full - free)
        statuses = []
        while len(idle) > 0 and 200 not in statuses:
            release(free + 1)
            statuses.append(self.fetch('/cgi-bin/nolen.sh').status)
            self.assertLessEqual(settled_fd_count(pid, full - free), full - free)
        self.assertEqual(set(statuses[:-1]), {503}, statuses)
        self.assertLogged('pipe2: Too many open files')

        # Descriptors back: everything is served again, and nothing leaked.
        resource.prlimit(pid, resource.RLIMIT_NOFILE, original)
        for c in idle:
            c.close()
        for target in ('/cgi-bin/nolen.sh', '/fresh1.txt', '/listed/', '/static.txt'):
            self.assertEqual(self.fetch(target).status, 200, target)
        self.assertEqual(self.fetch('/cgi-bin/upload.py', 'POST', body=b'x' * 1000).status, 200)
        self.assertNoZombies()
        count = settled_fd_count(pid, baseline + 2)
        self.assertLessEqual(count, baseline + 2, fd_targets(pid))

    def test_out_of_processes(self):
        # One script of the scripts' user runs; with RLIMIT_NPROC at 0 no other can start
        # (fork() fails, or as root execve() fails for nobody).
        holder = self.client()
        holder.send(request_bytes('GET', '/cgi-bin/fault_np-hold.sh'))
        self.assertTrue(wait_for_processes(marker('np-hold'), True, 5.0))
        original = self.lower_limit(resource.RLIMIT_NPROC, 0)
        reply = self.fetch('/cgi-bin/nolen.sh')
        self.assertEqual(reply.status, 503)
        self.assertLogged('Out of resources: CGI script /cgi-bin/nolen.sh')
        self.assertEqual(self.fetch('/static.txt').status, 200)  # no process needed
        resource.prlimit(self.server.pid, resource.RLIMIT_NPROC, original)
        self.assertEqual(self.fetch('/cgi-bin/nolen.sh').status, 200)
        holder.close()
        self.assertGone('np-hold')
        self.assertNoZombies()


def setUpModule():
    # The server passes its own environment on; keep request-independent values out of the
    # variables the tests look at.
    for name in ('HTTP_PROXY', 'AUTH_TYPE', 'REMOTE_USER', 'PATH_INFO', 'PATH_TRANSLATED'):
        os.environ.pop(name, None)


if __name__ == '__main__':
    unittest.main(verbosity=2)
