"""Shared helpers of cgihttp's integration tests (Python 3 standard library only).

- binary(): the path of a program under test, from the environment CTest sets
  (CGIHTTP_TEST_SERVER, CGIHTTP_DEMO, CGIHTTP_HELLO, CGIHTTP_OWN_LOOP, ...), else the newest
  build under build/*/ so that a script also runs by hand; skips the test when neither exists.
- ServerProcess: starts a program, collects its stdout and stderr on threads, waits for the
  line that tells its port, and stops it (signal, then kill) however the test ends.
- Raw socket helpers: connect(), recv_until_close(), wait_closed(), ResponseReader (one
  HTTP/1.x response at a time, framed the way a client frames it) and parse_responses().
"""

import atexit
import glob
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOCALHOST = '127.0.0.1'

_BINARIES = {
    'CGIHTTP_TEST_SERVER': 'tests/cgihttp_test_server',
    'CGIHTTP_DEMO': 'examples/cgihttpserver',
    'CGIHTTP_HELLO': 'examples/hello_handler',
    'CGIHTTP_OWN_LOOP': 'examples/own_loop',
    'CGIHTTP_CGI_DIRECTORIES': 'examples/cgi_directories',
    'CGIHTTP_HTTPS_SERVER': 'examples/https_server',
}


def skip_or_fail(reason):
    """Skips the calling test, except under CI (CI=true), where a missing tool or program
    is a failure: CI installs everything, so a skip there would hide a broken setup."""
    if os.environ.get('CI') == 'true':
        raise AssertionError('missing under CI: ' + reason)
    raise unittest.SkipTest(reason)


def require_tool(name):
    """The path of a command-line tool; see skip_or_fail() when it is missing."""
    import shutil
    path = shutil.which(name)
    if not path:
        skip_or_fail('needs the %s command' % name)
    return path


def binary(env_name):
    """The program named by env_name; skips the calling test when it cannot be found."""
    path = os.environ.get(env_name)
    if path:
        if not os.access(path, os.X_OK):
            skip_or_fail('%s=%s is not an executable' % (env_name, path))
        return path
    found = [p for p in glob.glob(os.path.join(REPO, 'build', '*', _BINARIES[env_name]))
             if os.access(p, os.X_OK)]
    if not found:
        skip_or_fail('%s is not set and no build/*/%s exists'
                                % (env_name, _BINARIES[env_name]))
    return max(found, key=os.path.getmtime)


# ---------------------------------------------------------------------------------------
# Processes

_live_processes = set()


@atexit.register
def _kill_leftovers():
    for proc in list(_live_processes):
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class _Collector(threading.Thread):
    """Reads a pipe line by line into a list; waiters are woken at each line."""

    def __init__(self, pipe, name):
        super().__init__(name=name, daemon=True)
        self.pipe = pipe
        self.lines = []
        self.eof = False
        self.cond = threading.Condition()

    def run(self):
        try:
            for line in iter(self.pipe.readline, b''):
                with self.cond:
                    self.lines.append(line)
                    self.cond.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self.cond:
                self.eof = True
                self.cond.notify_all()

    def text(self):
        with self.cond:
            return b''.join(self.lines).decode('utf-8', 'replace')

    def wait_for(self, predicate, timeout):
        """Waits until predicate(text so far) is true; returns its last value."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate(b''.join(self.lines).decode('utf-8', 'replace'))
                left = deadline - time.monotonic()
                if value or self.eof or left <= 0:
                    return value
                self.cond.wait(left)


# What AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer and ThreadSanitizer print.
SANITIZER_REPORT = re.compile(r'==\d+==ERROR: \w+Sanitizer|: runtime error: |'
                              r'WARNING: ThreadSanitizer')
# UBSan's vptr check probes memory through a pipe: with no descriptor left it reports valid
# objects. Its reports all say "... address X which does not point to an object of type T".
_NOT_VPTR = r'(?!(?:member call on|member access within|downcast of) address \S+ which does not point)'
_REPORT_BUT_VPTR = re.compile(SANITIZER_REPORT.pattern.replace(': runtime error: ',
                                                               ': runtime error: ' + _NOT_VPTR))


def sanitizer_report(text, tolerate_vptr=False):
    """The first sanitizer report in a program's output, or None; with tolerate_vptr, UBSan's
    vptr reports do not count (for a server run out of descriptors on purpose)."""
    match = (_REPORT_BUT_VPTR if tolerate_vptr else SANITIZER_REPORT).search(text)
    return match and text[match.start():][:4000]


class ServerProcess:
    """A program under test, run with its output collected.

    ready: a regular expression searched in stdout; start() waits for it (the process must
    print it within `timeout` seconds) and keeps the match in self.ready_match.
    """

    def __init__(self, argv, ready=None, timeout=10.0, cwd=None, env=None):
        self.argv = [str(a) for a in argv]
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=cwd, env=env)
        _live_processes.add(self.proc)
        self.pid = self.proc.pid
        self.stdout = _Collector(self.proc.stdout, 'stdout-%d' % self.pid)
        self.stderr = _Collector(self.proc.stderr, 'stderr-%d' % self.pid)
        self.stdout.start()
        self.stderr.start()
        self.ready_match = None
        self.tolerate_vptr_reports = False  # see sanitizer_report()
        if ready is not None:
            pattern = re.compile(ready)
            self.ready_match = self.stdout.wait_for(pattern.search, timeout)
            if not self.ready_match:
                self.stop()
                raise AssertionError('%s did not print %r within %.1f s (exit %r)\n'
                                     'stdout: %r\nstderr: %r'
                                     % (' '.join(self.argv), ready, timeout,
                                        self.proc.returncode, self.stdout.text(),
                                        self.stderr.text()))

    @property
    def returncode(self):
        return self.proc.poll()

    def running(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout):
        """Waits for the exit; returns the exit code, or None if still running."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self._finish()
        return code

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Signals the process, kills it if it has not exited within `timeout`, reaps it and
        its output threads. Returns the exit code. Safe to call more than once. Raises
        AssertionError when a sanitizer reported anything (a leak at exit included, which
        nothing else would notice)."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._finish()
        report = sanitizer_report(self.stderr.text(), self.tolerate_vptr_reports)
        if report:
            raise AssertionError('%s: sanitizer report:\n%s' % (' '.join(self.argv), report))
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._finish()

    def _finish(self):
        _live_processes.discard(self.proc)
        self.stdout.join(2)
        self.stderr.join(2)
        for pipe in (self.proc.stdout, self.proc.stderr):
            try:
                pipe.close()
            except OSError:
                pass


def start_process(testcase, argv, ready=None, timeout=10.0, cwd=None, env=None):
    """ServerProcess stopped by testcase's cleanup whatever the test's outcome."""
    proc = ServerProcess(argv, ready, timeout, cwd, env)
    testcase.addCleanup(proc.stop)
    return proc


def start_test_server(testcase, kind, *options):
    """Starts `cgihttp_test_server KIND OPTIONS...`; returns (process, port)."""
    proc = start_process(testcase, [binary('CGIHTTP_TEST_SERVER'), kind] + list(options),
                         ready=r'PORT (\d+)\n')
    return proc, int(proc.ready_match.group(1))


DEMO_SITE = os.path.join(REPO, 'examples', 'www')


def copy_demo_site(testcase):
    """A temporary copy of examples/www readable (and its scripts runnable) by everyone,
    since the demo runs scripts as nobody when it runs as root, plus a data directory for
    its scripts (the guestbook) writable by them. Returns (www, data); both are removed by
    testcase's cleanup, so nothing a test does lands in the repository or in shared /tmp."""
    if not os.access(os.path.join(DEMO_SITE, 'cgi-bin', 'hello-cpp'), os.X_OK):
        testcase.fail('examples/www/cgi-bin/hello-cpp is missing: build the hello_cgi target '
                      'first (cmake --build BUILD_DIR --target hello_cgi), CMake writes it '
                      'into examples/www/cgi-bin/')
    parent = tempfile.mkdtemp(prefix='cgihttp-site-')
    testcase.addCleanup(shutil.rmtree, parent, True)
    www = os.path.join(parent, 'www')
    shutil.copytree(DEMO_SITE, www, ignore=shutil.ignore_patterns('__pycache__'))
    os.chmod(parent, 0o755)  # mkdtemp makes it 0700: nobody could not reach the site
    for dirpath, dirnames, filenames in os.walk(www):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            path = os.path.join(dirpath, name)
            mode = os.stat(path).st_mode & 0o777
            os.chmod(path, mode | (0o555 if mode & 0o111 else 0o444))
    data = os.path.join(parent, 'data')
    os.mkdir(data)
    os.chmod(data, 0o777)
    return www, data


def start_demo_site(testcase, www, data, *options):
    """Serves `www` with the demo (cgihttpserver OPTIONS... on an ephemeral loopback port),
    its scripts keeping their data in `data`. Returns (process, base URL: https:// when
    OPTIONS hold --tls-cert)."""
    env = dict(os.environ, CGIHTTP_DEMO_DATA=data)
    proc = start_process(testcase, [binary('CGIHTTP_DEMO'), '-b', LOCALHOST, '-d', www]
                         + list(options) + ['0'],
                         ready=r'Serving HTTPS? on 127\.0\.0\.1 port (\d+) \((https?):', env=env)
    return proc, '%s://%s:%s' % (proc.ready_match.group(2), LOCALHOST, proc.ready_match.group(1))


def run_program(argv, timeout=10.0):
    """Runs a program to its end; returns subprocess.CompletedProcess with text output."""
    return subprocess.run([str(a) for a in argv], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=timeout, text=True,
                          errors='replace')


# ---------------------------------------------------------------------------------------
# /proc: a server's descriptors, memory and children, and processes by command line

def status_field(pid, name):
    """A number from /proc/PID/status (kB for memory, a count for Threads)."""
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(name + ':'):
                return int(line.split()[1])
    raise AssertionError('no %s in /proc/%d/status' % (name, pid))


def fd_count(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def fd_targets(pid):
    """'FD -> target' for each open descriptor of `pid`, sorted (for failure messages)."""
    targets = []
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            targets.append('%s -> %s' % (fd, os.readlink('/proc/%d/fd/%s' % (pid, fd))))
        except OSError:
            pass
    return sorted(targets)


def stable_fd_count(pid, quiet=0.3, timeout=4.0):
    """The descriptor count of `pid` once unchanged for `quiet` seconds (at most `timeout`)."""
    last, since = fd_count(pid), time.monotonic()
    deadline = since + timeout
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        time.sleep(0.05)
        count = fd_count(pid)
        if count != last:
            last, since = count, time.monotonic()
    return last


def settled_fd_count(pid, limit, timeout=4.0):
    """The descriptor count of `pid`, once it is at most `limit` (or after `timeout`:
    connections linger a little after closing)."""
    deadline = time.monotonic() + timeout
    while True:
        count = fd_count(pid)
        if count <= limit or time.monotonic() > deadline:
            return count
        time.sleep(0.02)


def processes_with(text):
    """(pid, cmdline) of every live process whose command line contains `text`."""
    found = []
    needle = text.encode()
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % entry, 'rb') as f:
                cmdline = f.read()
        except OSError:
            continue
        if needle in cmdline:
            found.append((int(entry), cmdline.replace(b'\0', b' ').decode('latin-1')))
    return found


def wait_for_processes(text, present, timeout):
    """Waits until processes matching `text` exist (present) or are all gone; returns the
    last scan."""
    deadline = time.monotonic() + timeout
    while True:
        found = processes_with(text)
        if bool(found) == present or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def zombie_children(ppid):
    """(pid, 'pid (command)') of each zombie child of `ppid`."""
    zombies = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rfind(')') + 2:].split()
        if fields and fields[0] == 'Z' and int(fields[1]) == ppid:
            zombies.append((int(entry), data[:data.rfind(')') + 1]))
    return zombies


# ---------------------------------------------------------------------------------------
# Sockets

def connect(port, host=LOCALHOST, timeout=5.0):
    """A connected TCP socket with a timeout on every operation."""
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def recv_until_close(sock, timeout=5.0):
    """Reads until the peer closes. Returns (data, how) with how in 'eof', 'reset',
    'timeout' (the peer kept the connection open for `timeout` seconds)."""
    data = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(data), 'timeout'
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return bytes(data), 'timeout'
        except (ConnectionResetError, ConnectionAbortedError):
            return bytes(data), 'reset'
        if not chunk:
            return bytes(data), 'eof'
        data += chunk


def wait_closed(sock, timeout=5.0):
    """Waits until the peer closes; returns (how, seconds waited, data read meanwhile)."""
    start = time.monotonic()
    data, how = recv_until_close(sock, timeout)
    return how, time.monotonic() - start, data


def is_open(sock, wait=0.2):
    """True when the peer neither closed nor sent anything within `wait` seconds."""
    readable, _, _ = select.select([sock], [], [], wait)
    if not readable:
        return True
    try:
        return sock.recv(1, socket.MSG_PEEK) != b''
    except OSError:
        return False


class Response:
    """One parsed response: version, status, reason (bytes decoded latin-1), header fields in
    order as (name, value) strings, body bytes, raw bytes of the whole response."""

    def __init__(self, version, status, reason, fields, body, raw):
        self.version, self.status, self.reason = version, status, reason
        self.fields, self.body, self.raw = fields, body, raw

    def header(self, name, default=None):
        for field, value in self.fields:
            if field.lower() == name.lower():
                return value
        return default

    def header_count(self, name):
        return sum(1 for field, _ in self.fields if field.lower() == name.lower())

    def __repr__(self):
        return 'Response(%s %d %r, %r, body %d bytes)' % (
            self.version, self.status, self.reason, self.fields, len(self.body))


class ProtocolError(Exception):
    pass


def _no_body(status, method):
    return method == 'HEAD' or 100 <= status < 200 or status in (204, 304)


class ResponseReader:
    """Reads HTTP/1.x responses from a socket one at a time, framed as a client frames
    them: Content-Length, no body (HEAD, 1xx, 204, 304), or else until the server closes."""

    def __init__(self, sock, timeout=5.0):
        self.sock = sock
        self.timeout = timeout
        self.buffer = bytearray()
        self.closed = False

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout('no complete response within %.1f s' % self.timeout)
        self.sock.settimeout(left)
        chunk = self.sock.recv(65536)
        if not chunk:
            self.closed = True
        self.buffer += chunk
        return bool(chunk)

    def read_response(self, method='GET'):
        deadline = time.monotonic() + self.timeout
        while b'\r\n\r\n' not in self.buffer and b'\n\n' not in self.buffer:
            if not self._fill(deadline):
                raise ProtocolError('connection closed inside a response head: %r'
                                    % bytes(self.buffer))
        head, body_start = _split_head(bytes(self.buffer))
        version, status, reason, fields = _parse_head(head)
        length = None
        for name, value in fields:
            if name.lower() == 'content-length':
                length = int(value)
        if _no_body(status, method):
            end = body_start
        elif length is not None:
            while len(self.buffer) < body_start + length:
                if not self._fill(deadline):
                    raise ProtocolError('connection closed inside a body of %d bytes' % length)
            end = body_start + length
        else:
            while self._fill(deadline):
                pass
            end = len(self.buffer)
        raw = bytes(self.buffer[:end])
        del self.buffer[:end]
        return Response(version, status, reason, fields, raw[body_start:], raw)

    def read_final_response(self, method='GET'):
        """Skips interim (1xx) responses; returns (interim list, final response)."""
        interim = []
        while True:
            response = self.read_response(method)
            if response.status >= 200 or response.status == 101:
                return interim, response
            interim.append(response)


def _split_head(data):
    crlf, lf = data.find(b'\r\n\r\n'), data.find(b'\n\n')
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return data[:crlf + 2], crlf + 4
    return data[:lf + 1], lf + 2


def _parse_head(head):
    # Not str.splitlines(): it would also split at \x1c-\x1e and \x85 of latin-1 text.
    lines = re.split(r'\r?\n', head.decode('latin-1').rstrip('\r\n'))
    match = re.fullmatch(r'(HTTP/\d+\.\d+) (\d{3}) ?(.*)', lines[0])
    if not match:
        raise ProtocolError('bad status line %r' % lines[0])
    fields = []
    for line in lines[1:]:
        name, colon, value = line.partition(':')
        if not colon:
            raise ProtocolError('bad header line %r' % line)
        fields.append((name, value.strip()))
    return match.group(1), int(match.group(2)), match.group(3), fields


def parse_responses(data, method='GET'):
    """Splits the bytes a server sent into responses (with framing as above). Bytes that do
    not start with a status line are returned as the trailing `rest` (an HTTP/0.9 answer).
    Returns (responses, rest)."""
    responses = []
    data = bytes(data)
    while data.startswith(b'HTTP/'):
        split = _split_head(data) if (b'\r\n\r\n' in data or b'\n\n' in data) else None
        if split is None:
            break
        head, body_start = split
        version, status, reason, fields = _parse_head(head)
        length = None
        for name, value in fields:
            if name.lower() == 'content-length':
                length = int(value)
        if _no_body(status, method):
            end = body_start
        elif length is not None:
            end = min(len(data), body_start + length)
        else:
            end = len(data)
        responses.append(Response(version, status, reason, fields, data[body_start:end],
                                  data[:end]))
        data = data[end:]
    return responses, data


def exchange(port, request, timeout=5.0, host=LOCALHOST):
    """Sends raw bytes on a new connection, reads until the server closes (or `timeout`).
    Returns (data, how) as recv_until_close()."""
    with connect(port, host, timeout) as sock:
        sock.sendall(request)
        return recv_until_close(sock, timeout)
