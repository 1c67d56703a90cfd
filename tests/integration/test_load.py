"""Hardening under load, bounded in count and time, on 127.0.0.1 only: slowloris (300
connections dripping a header byte every 2 s) while a normal client is served; slow
readers of a 64 MiB file while another client gets a small one, with the server's thread
count watched; the connection limit (503 to the excess, recovery when they close); the
header and idle timeouts closing hundreds of slow or silent connections; a soak mixing
keep-alive static GETs, Range GETs, CGI GETs and CGI uploads checked by SHA-256, with the
server's RSS and descriptors compared before and after; a burst of 2,000 connections.

Every test starts its own `cgihttp_test_server cgi` over a temporary tree and prints
what it measured on stderr as "[load] ..." lines. CGIHTTP_SOAK_SECONDS sets the soak's
length (default 30). As root the scripts run as nobody: the tree is 0755, files 0644."""

import errno
import hashlib
import http.client
import os
import random
import resource
import select
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
import unittest

import cgihttp_testlib as lib
from cgihttp_testlib import (fd_count, fd_targets, settled_fd_count, stable_fd_count,
                             status_field, zombie_children)

SLACK = 2.0  # generous bounds: CTest runs scripts in parallel, sanitizer builds are slow
SOAK_SECONDS = float(os.environ.get('CGIHTTP_SOAK_SECONDS', '30'))
SMALL = random.Random(1).randbytes(1024)
MEDIUM = random.Random(2).randbytes(100 * 1024)
LARGE = random.Random(3).randbytes(3 * 1024 * 1024)
BIG_SIZE = 64 * 1024 * 1024
UPLOAD_POOL = random.Random(4).randbytes(4 * 1024 * 1024)
MAX_UPLOAD = 2 * 1024 * 1024


def report(message, *args):
    print('[load] ' + message % args, file=sys.stderr, flush=True)


def setUpModule():
    # 2,000 client sockets plus the server's side of them (the server inherits the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 16384 if hard == resource.RLIM_INFINITY else min(hard, 16384)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


# ---------------------------------------------------------------------------------------
# The program under test

def sanitized(program):
    """The sanitizer a program is built with ('asan', 'tsan', 'msan') or None: their
    shadow memory and quarantine make its RSS meaningless as a leak measure."""
    with open(program, 'rb') as f:
        image = f.read()
    for name in ('asan', 'tsan', 'msan'):
        if b'__%s_init' % name.encode() in image:
            return name
    return None


# ---------------------------------------------------------------------------------------
# The served tree and the server

SHA_SCRIPT = ('#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\n'
              'echo "len=$CONTENT_LENGTH"\nexec sha256sum\n')
HELLO_SCRIPT = ('#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\n'
                'echo "hello $QUERY_STRING"\n')


def make_tree(testcase, big=False):
    """small.bin (1 KiB), medium.bin (100 KiB), large.bin (3 MiB), big.bin (64 MiB of zeros,
    sparse; only when `big`), cgi-bin/sha.sh (CONTENT_LENGTH and SHA-256 of the body) and
    cgi-bin/hello.sh (echoes QUERY_STRING). Removed at the test's cleanup."""
    root = os.path.realpath(tempfile.mkdtemp(prefix='cgihttp-load-'))
    testcase.addCleanup(shutil.rmtree, root, True)
    os.chmod(root, 0o755)
    cgi_bin = os.path.join(root, 'cgi-bin')
    os.mkdir(cgi_bin)
    os.chmod(cgi_bin, 0o755)
    for name, content in (('small.bin', SMALL), ('medium.bin', MEDIUM), ('large.bin', LARGE)):
        with open(os.path.join(root, name), 'wb') as f:
            f.write(content)
        os.chmod(os.path.join(root, name), 0o644)
    if big:
        with open(os.path.join(root, 'big.bin'), 'wb') as f:
            f.truncate(BIG_SIZE)
        os.chmod(os.path.join(root, 'big.bin'), 0o644)
    for name, text in (('sha.sh', SHA_SCRIPT), ('hello.sh', HELLO_SCRIPT)):
        with open(os.path.join(cgi_bin, name), 'w') as f:
            f.write(text)
        os.chmod(os.path.join(cgi_bin, name), 0o755)
    return root


class LoadCase(unittest.TestCase):

    def start(self, *options, big=False):
        self.root = make_tree(self, big)
        self.addCleanup(self.check_sanitizer_reports)  # runs after the server's stop
        self.server, self.port = lib.start_test_server(
            self, 'cgi', '--directory', self.root, '--protocol', 'HTTP/1.1', *options)
        return self.port

    def check_sanitizer_reports(self):
        """In sanitizer builds: the stopped server reported no error, leak or data race."""
        log = self.server.stderr.text()
        for word in ('Sanitizer', 'runtime error:'):
            if word in log:
                self.fail('sanitizer report from the server:\n' +
                          log[max(0, log.index(word) - 2000):][:6000])

    def fetch(self, path='/small.bin', timeout=5.0):
        """GET on a new connection; returns (status, body, seconds)."""
        start = time.monotonic()
        con = http.client.HTTPConnection(lib.LOCALHOST, self.port, timeout=timeout)
        try:
            con.request('GET', path, headers={'Connection': 'close'})
            res = con.getresponse()
            body = res.read()
            return res.status, body, time.monotonic() - start
        finally:
            con.close()

    def assertServing(self):
        self.assertTrue(self.server.running(), 'the server died (exit %r); stderr:\n%s'
                        % (self.server.returncode, self.server.stderr.text()[-3000:]))
        status, body, _ = self.fetch()
        self.assertEqual((status, body), (200, SMALL), 'the server no longer serves')

    def warm_up(self):
        """One request of each kind, so that what the server opens once (the open-file
        cache keeps served files open) is in a baseline."""
        self.assertEqual(self.fetch()[:2], (200, SMALL))
        self.assertEqual(self.fetch('/medium.bin')[:2], (200, MEDIUM))
        self.assertEqual(self.fetch('/large.bin')[:2], (200, LARGE))
        self.assertEqual(self.fetch('/cgi-bin/hello.sh?w')[:2], (200, b'hello w\n'))

    def clients(self, count, connect=True):
        """`count` connected non-blocking sockets, closed at cleanup."""
        socks = []
        self.addCleanup(lambda: [s.close() for s in socks])
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            if connect:
                s.settimeout(5)
                s.connect((lib.LOCALHOST, self.port))
                s.setblocking(False)
        return socks


def watch(socks, seconds, on_tick=None, drip=None):
    """Watches non-blocking sockets for `seconds`, all in this thread, with poll() (the
    select module's; select() itself stops at descriptor 1023). drip(i, now) returns bytes
    to send on socket i now (or b''); on_tick(now) runs each round. Returns per socket
    (closed_at: seconds from the start, or None if still open; bytes received)."""
    poller = select.poll()
    index = {}
    for i, s in enumerate(socks):
        poller.register(s, select.POLLIN)
        index[s.fileno()] = i
    closed = [None] * len(socks)
    received = [b''] * len(socks)
    start = time.monotonic()
    while True:
        now = time.monotonic() - start
        if now >= seconds or all(c is not None for c in closed):
            break
        if drip:
            for i, s in enumerate(socks):
                if closed[i] is None:
                    data = drip(i, now)
                    if data:
                        try:
                            s.send(data)
                        except (BlockingIOError, InterruptedError):
                            pass
                        except OSError:  # closed by the server: seen by the poll below
                            pass
        if on_tick:
            on_tick(now)
        for fd, _ in poller.poll(20):
            i = index[fd]
            if closed[i] is not None:
                continue
            try:
                data = socks[i].recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b''
            if data:
                received[i] += data
            else:
                closed[i] = time.monotonic() - start
                poller.unregister(fd)
    return closed, received


# ---------------------------------------------------------------------------------------

class SlowlorisTest(LoadCase):
    """300 connections each send one byte of a request head every 2 s, for 10 s, with the
    default header timeout (30 s): the server holds them without threads and keeps
    answering a normal client within 1 s."""

    def test_slowloris_while_serving(self):
        self.start('--threads', '2')
        self.warm_up()
        baseline = stable_fd_count(self.server.pid)
        count, interval, duration = 300, 2.0, 10.0
        socks = self.clients(count)
        payload = b'GET /small.bin HTTP/1.1\r\nHost: a\r\nX-Slow: ' + b'z' * 1000
        sent = [0] * count
        offset = [interval * i / count for i in range(count)]  # spread over the interval

        def drip(i, now):
            if now >= offset[i] + sent[i] * interval and sent[i] < len(payload):
                sent[i] += 1
                return payload[sent[i] - 1:sent[i]]
            return b''

        results = []

        def normal_client():
            for n in range(10):
                time.sleep(max(0.0, (n + 0.5) - (time.monotonic() - t0)))
                try:
                    status, body, elapsed = self.fetch(timeout=5)
                    results.append((status, body == SMALL, elapsed))
                except Exception as e:  # reported by the assertion below
                    results.append(('error', repr(e), None))

        t0 = time.monotonic()
        thread = threading.Thread(target=normal_client, daemon=True)
        thread.start()
        peak = {'fds': 0, 'threads': 0}

        def on_tick(now):
            if int(now * 10) % 10 == 0:  # about once a second
                peak['fds'] = max(peak['fds'], fd_count(self.server.pid))
                peak['threads'] = max(peak['threads'], status_field(self.server.pid, 'Threads'))

        closed, received = watch(socks, duration, on_tick, drip)
        held = sum(1 for c in closed if c is None)
        thread.join(10)
        times = [r[2] for r in results if r[2] is not None]
        report('slowloris: %d connections dripping 1 byte/%.0f s; after %.0f s the server holds '
               '%d open (%d closed), %d bytes sent each; server fds %d at baseline, %d peak; '
               'threads peak %d', count, interval, duration, held, count - held, max(sent),
               baseline, peak['fds'], peak['threads'])
        report('slowloris: normal client %d/10 answered, slowest %.3f s, mean %.3f s',
               sum(1 for r in results if r[:2] == (200, True)), max(times or [0]),
               sum(times) / max(1, len(times)))
        self.assertEqual(len(results), 10)
        for status, ok, elapsed in results:
            self.assertEqual((status, ok), (200, True), results)
            self.assertLess(elapsed, 1.0, 'a normal request took %.2f s' % elapsed)
        self.assertEqual([r for r in received if r], [], 'answers before the head ended')
        for s in socks:
            s.close()
        self.assertServing()
        after = settled_fd_count(self.server.pid, baseline + 2, 5.0)
        self.assertLessEqual(after, baseline + 2, 'descriptors %d at baseline, %d after:\n%s'
                             % (baseline, after, fd_targets(self.server.pid)))


class SlowReaderTest(LoadCase):
    """Clients reading a 64 MiB file at 64 KiB/s hold no thread and do not delay others."""

    def test_slow_readers_do_not_block_others(self):
        threads_option = 2
        self.start('--threads', str(threads_option), big=True)
        self.warm_up()
        baseline_threads = status_field(self.server.pid, 'Threads')
        readers = 8
        socks = []
        self.addCleanup(lambda: [s.close() for s in socks])
        for _ in range(readers):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
            s.settimeout(5)
            s.connect((lib.LOCALHOST, self.port))
            s.sendall(b'GET /big.bin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
            s.setblocking(False)
        got = [bytearray() for _ in range(readers)]
        rate, tick = 64 * 1024, 0.1
        results, max_threads = [], baseline_threads
        start = time.monotonic()
        next_fetch = start + 0.5
        duration = 5.0
        while time.monotonic() - start < duration:
            for i, s in enumerate(socks):  # each reads its share of 64 KiB/s
                want = int(rate * tick)
                while want > 0:
                    try:
                        data = s.recv(want)
                    except BlockingIOError:
                        break
                    if not data:
                        break
                    got[i] += data
                    want -= len(data)
            max_threads = max(max_threads, status_field(self.server.pid, 'Threads'))
            if time.monotonic() >= next_fetch and len(results) < 10:
                results.append(self.fetch(timeout=5))
                next_fetch += 0.4
            time.sleep(max(0.0, tick - (time.monotonic() - start) % tick))
        elapsed = time.monotonic() - start
        for i in range(readers):
            head, sep, body = bytes(got[i]).partition(b'\r\n\r\n')
            self.assertTrue(sep, got[i][:200])
            self.assertTrue(head.startswith(b'HTTP/1.1 200 '), head)
            self.assertIn(b'Content-Length: %d' % BIG_SIZE, head)
            self.assertEqual(body.count(0), len(body))
            # Paced by the reader: about rate * elapsed, never the whole file.
            self.assertLess(len(body), rate * elapsed * 2 + 4 * 1024 * 1024)
        fetch_times = [r[2] for r in results]
        report('slow readers: %d clients read big.bin (64 MiB) at 64 KiB/s for %.1f s '
               '(%d KiB each on average); 1 KiB fetches meanwhile: %d, slowest %.3f s; '
               'server threads: %d at start, %d at most (--threads %d)', readers, elapsed,
               sum(len(g) for g in got) // readers // 1024, len(results), max(fetch_times),
               baseline_threads, max_threads, threads_option)
        self.assertEqual(len(results), 10)
        for status, body, seconds in results:
            self.assertEqual((status, body), (200, SMALL))
            self.assertLess(seconds, 1.0, 'a 1 KiB file took %.2f s' % seconds)
        # The event loop's threads and the waiting main thread; none per slow reader.
        self.assertLess(max_threads, baseline_threads + readers // 2)
        for s in socks:
            s.close()
        self.assertServing()


class ConnectionLimitTest(LoadCase):
    """--max-connections 50: the excess is answered 503 (Retry-After: 1) and closed, the
    held connections are unaffected, and the server recovers when they close."""

    def refused(self, sock, timeout=SLACK):
        sock.setblocking(True)
        data, how = lib.recv_until_close(sock, timeout)
        responses, rest = lib.parse_responses(data)
        return how, responses, rest

    def test_excess_connections_get_503_and_the_server_recovers(self):
        self.start('--max-connections', '50')
        held = self.clients(50)
        time.sleep(0.3)  # all 50 accepted and registered
        extra = self.clients(10)
        for s in extra:
            how, responses, rest = self.refused(s)
            self.assertEqual((how, rest, len(responses)), ('eof', b'', 1), responses)
            res = responses[0]
            self.assertEqual((res.status, res.header('Retry-After'), res.header('Connection'),
                              res.header('Content-Length')), (503, '1', 'close', '0'))
        self.assertTrue(self.server.stderr.wait_for(
            lambda t: '503 to a new connection: max_connections (50) reached' in t, 2),
            self.server.stderr.text())
        # The held connections were not touched, and are served normally.
        readable, _, _ = select.select(held, [], [], 0)
        self.assertEqual(readable, [], 'a held connection got an answer or was closed')
        first = held[0]
        first.setblocking(True)
        first.sendall(b'GET /small.bin HTTP/1.1\r\nHost: a\r\n\r\n')
        res = lib.ResponseReader(first).read_response()
        self.assertEqual((res.status, res.body), (200, SMALL))
        # Recovery: once they close, new connections are served again.
        for s in held:
            s.close()
        start = time.monotonic()
        while True:
            try:
                status, body, _ = self.fetch()
            except (OSError, http.client.HTTPException):
                status, body = None, None
            if (status, body) == (200, SMALL) or time.monotonic() - start > SLACK:
                break
            time.sleep(0.05)
        recovered = time.monotonic() - start
        self.assertEqual((status, body), (200, SMALL), 'not served after the others closed')
        # All 50 slots are free again: 49 held plus one request.
        again = self.clients(49)
        time.sleep(0.3)
        status, body, _ = self.fetch()
        self.assertEqual((status, body), (200, SMALL))
        for s in again:
            s.close()
        report('connection limit: 50 held, 10 extra answered 503 + Retry-After: 1; served '
               'again %.3f s after the held ones closed', recovered)
        self.assertServing()

    def test_burst_of_60(self):
        # 60 connections at once, none waiting for another: a connection counts before
        # the next accept, so exactly 10 are refused.
        self.start('--max-connections', '50', '--threads', '2')
        socks = self.clients(60)
        time.sleep(0.5)
        answered = 0
        readable, _, _ = select.select(socks, [], [], 0)
        for s in readable:
            if s.recv(4096).startswith(b'HTTP/1.1 503 '):
                answered += 1
        report('connection limit: a burst of 60 against --max-connections 50: %d got 503',
               answered)
        self.assertEqual(answered, 10)
        for s in socks:
            s.close()
        self.assertServing()


class TimeoutTest(LoadCase):
    """--header-ms 1000 --keepalive-ms 1000: 100 dripping, 100 silent and 100 idle
    kept-alive connections are all closed in time (the dripping ones with 408)."""

    def test_header_and_idle_timeouts_close_slow_connections(self):
        self.start('--header-ms', '1000', '--keepalive-ms', '1000')
        self.warm_up()
        baseline = stable_fd_count(self.server.pid)
        n = 100
        drippers, silent, idle = self.clients(n), self.clients(n), self.clients(n)
        for s in idle:  # one request answered, then idle
            s.sendall(b'GET /small.bin HTTP/1.1\r\nHost: a\r\n\r\n')
        for s in idle:
            s.setblocking(True)
            res = lib.ResponseReader(s).read_response()
            self.assertEqual((res.status, res.body), (200, SMALL))
            s.setblocking(False)
        socks = drippers + silent + idle
        payload = b'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ' + b'z' * 1000
        sent = [0] * n

        def drip(i, now):
            if i < n and now >= sent[i] * 0.2 and sent[i] < len(payload):
                sent[i] += 1
                return payload[sent[i] - 1:sent[i]]
            return b''

        served = []
        closed, received = watch(socks, 1.0 + 2 * SLACK,
                                 lambda now: served.append(self.fetch()[:2])
                                 if now > 0.5 and not served else None, drip)
        self.assertEqual(served, [(200, SMALL)])
        still_open = [i for i, c in enumerate(closed) if c is None]
        self.assertEqual(still_open, [], 'connections not closed within %.1f s' % (1 + 2 * SLACK))
        for i in range(n):
            self.assertTrue(received[i].startswith(b'HTTP/1.1 408 '), received[i][:100])
            self.assertEqual(received[n + i], b'')
            self.assertEqual(received[2 * n + i], b'')
        for group, name in ((range(0, n), 'dripping'), (range(n, 2 * n), 'silent'),
                            (range(2 * n, 3 * n), 'idle')):
            times = [closed[i] for i in group]
            report('timeouts: %d %s connections closed after %.2f..%.2f s', n, name,
                   min(times), max(times))
            self.assertGreater(min(times), 0.5, name)
            self.assertLess(max(times), 1.0 + SLACK, name)
        for s in socks:
            s.close()
        after = settled_fd_count(self.server.pid, baseline + 2, 5.0)
        self.assertLessEqual(after, baseline + 2)
        self.assertServing()


class SoakTest(LoadCase):
    """16 client threads for CGIHTTP_SOAK_SECONDS (default 30) over keep-alive
    connections: static GETs, Range GETs, CGI GETs, and CGI uploads (Content-Length and
    chunked) of 1 B to 2 MiB whose SHA-256 the script returns. No error is allowed; the
    server's descriptors and memory are back near their baseline afterwards."""

    THREADS = 16

    def test_soak(self):
        self.start()
        files = {'/small.bin': SMALL, '/medium.bin': MEDIUM, '/large.bin': LARGE}
        self.warm_up()
        con = self.connection()
        for chunked in (False, True):
            self.assertEqual(self.upload(con, b'w' * 1000, chunked), None)
        con.close()
        time.sleep(0.5)
        pid = self.server.pid
        fds_before = stable_fd_count(pid)
        targets_before = fd_targets(pid)
        rss_before = status_field(pid, 'VmRSS')
        stats = {'requests': 0, 'sent': 0, 'received': 0, 'uploads': 0, 'upload_bytes': 0,
                 'chunked': 0, 'static': 0, 'range': 0, 'cgi_get': 0, 'reconnects': 0}
        errors = []
        lock = threading.Lock()
        deadline = time.monotonic() + SOAK_SECONDS

        def client(seed):
            rnd = random.Random(seed)
            con = self.connection()
            try:
                while time.monotonic() < deadline and len(errors) < 20:
                    op = rnd.random()
                    try:
                        if op < 0.35:
                            kind = 'static'
                            path, content = rnd.choice(list(files.items()))
                            error, sent, got = self.get(con, path, content)
                        elif op < 0.55:
                            kind = 'range'
                            path, content = rnd.choice(list(files.items()))
                            a = rnd.randrange(len(content))
                            b = rnd.randrange(a, min(len(content), a + 300000))
                            error, sent, got = self.get(con, path, content[a:b + 1],
                                                        (a, b, len(content)))
                        elif op < 0.75:
                            kind = 'cgi_get'
                            q = 'n=%d' % rnd.randrange(10 ** 9)
                            error, sent, got = self.get(con, '/cgi-bin/hello.sh?' + q,
                                                        b'hello %s\n' % q.encode())
                        else:
                            kind = 'uploads'
                            size = min(MAX_UPLOAD, int(2 ** rnd.uniform(0, 21)))
                            offset = rnd.randrange(len(UPLOAD_POOL) - size + 1)
                            body = UPLOAD_POOL[offset:offset + size]
                            chunked = rnd.random() < 0.3
                            error = self.upload(con, body, chunked, rnd)
                            sent, got = size, 0
                            if not error:
                                with lock:
                                    stats['upload_bytes'] += size
                                    stats['chunked'] += chunked
                    except Exception as e:  # a failed exchange: record it, reconnect
                        error, sent, got = 'exception %r' % e, 0, 0
                    with lock:
                        if error:
                            errors.append(error)
                        else:
                            stats['requests'] += 1
                            stats[kind] += 1
                            stats['sent'] += sent
                            stats['received'] += got
                    if error or con.sock is None:
                        con.close()
                        con = self.connection()
                        with lock:
                            stats['reconnects'] += 1
            finally:
                con.close()

        threads = [threading.Thread(target=client, args=(n,), daemon=True)
                   for n in range(self.THREADS)]
        start = time.monotonic()
        peak = {'rss': rss_before, 'fds': fds_before, 'threads': 0}
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            peak['rss'] = max(peak['rss'], status_field(pid, 'VmRSS'))
            peak['fds'] = max(peak['fds'], fd_count(pid))
            peak['threads'] = max(peak['threads'], status_field(pid, 'Threads'))
            for t in threads:
                t.join(0.1)
            self.assertLess(time.monotonic() - start, SOAK_SECONDS + 60, 'clients stuck')
        elapsed = time.monotonic() - start
        fds_after = settled_fd_count(pid, fds_before, 5.0)  # connections linger a little after closing
        time.sleep(0.5)
        rss_after = status_field(pid, 'VmRSS')
        report('soak: %.1f s, %d client threads, %d requests (%.0f/s): %d static, %d range, '
               '%d CGI GET, %d CGI uploads (%d chunked, %.1f MiB); %.1f MiB sent, %.1f MiB '
               'received; %d errors; %d reconnects', elapsed, self.THREADS, stats['requests'],
               stats['requests'] / elapsed, stats['static'], stats['range'], stats['cgi_get'],
               stats['uploads'], stats['chunked'], stats['upload_bytes'] / 2 ** 20,
               stats['sent'] / 2 ** 20, stats['received'] / 2 ** 20, len(errors),
               stats['reconnects'])
        report('soak: server VmRSS %d KiB before, %d KiB peak, %d KiB after; fds %d before, '
               '%d peak, %d after; threads peak %d', rss_before, peak['rss'], rss_after,
               fds_before, peak['fds'], fds_after, peak['threads'])
        self.assertEqual(errors[:10], [])
        self.assertGreater(stats['uploads'], 0)
        self.assertEqual(zombie_children(pid), [], 'zombie CGI children after the soak')
        self.assertLessEqual(fds_after, fds_before + 2, 'descriptors %d before, %d after:\n%s'
                             % (fds_before, fds_after, fd_targets(pid)))
        if fds_after != fds_before:
            report('soak: descriptors before %s, after %s', targets_before, fd_targets(pid))
        # Thread stacks and malloc arenas of the extra threads may stay: a bounded margin.
        sanitizer = sanitized(self.server.argv[0])
        if sanitizer:
            report('soak: RSS not compared (the server is built with %s)', sanitizer)
        else:
            self.assertLess(rss_after, rss_before + 24 * 1024, 'RSS %d KiB before, %d KiB after'
                            % (rss_before, rss_after))
        self.assertServing()

    def connection(self):
        return http.client.HTTPConnection(lib.LOCALHOST, self.port, timeout=30)

    def get(self, con, path, expected, byte_range=None):
        """One GET on a kept-alive connection; returns (error or None, sent, received)."""
        headers = {}
        if byte_range:
            headers['Range'] = 'bytes=%d-%d' % byte_range[:2]
        con.request('GET', path, headers=headers)
        res = con.getresponse()
        body = res.read()
        if byte_range:
            want = (206, 'bytes %d-%d/%d' % byte_range)
            got = (res.status, res.getheader('Content-Range'))
        else:
            want, got = 200, res.status
        if got != want or body != expected:
            return ('GET %s %r: %r, %d bytes (expected %r, %d bytes)'
                    % (path, headers, got, len(body), want, len(expected)), 0, 0)
        return None, len(path), len(body)

    def upload(self, con, body, chunked, rnd=None):
        """POSTs `body` to sha.sh (chunked in random pieces, or with Content-Length);
        returns an error text, or None when the script saw exactly these bytes."""
        if chunked:
            rnd = rnd or random.Random(0)
            view = memoryview(body)

            def pieces():
                pos = 0
                while pos < len(view):
                    step = rnd.randint(1, 256 * 1024)
                    yield view[pos:pos + step]
                    pos += step
            con.request('POST', '/cgi-bin/sha.sh', body=pieces(), encode_chunked=True,
                        headers={'Transfer-Encoding': 'chunked'})
        else:
            con.request('POST', '/cgi-bin/sha.sh', body=body)
        res = con.getresponse()
        answer = res.read()
        expected = b'len=%d\n%s  -\n' % (len(body), hashlib.sha256(body).hexdigest().encode())
        if res.status != 200 or answer != expected:
            return ('POST %d bytes%s: %d %r' % (len(body), ' chunked' if chunked else '',
                                                res.status, answer[:200]))
        return None


class BurstTest(LoadCase):
    """2,000 connections opened at once (a third send a request, a third part of one, a
    third nothing), then all closed at once (half with a reset): no descriptor is left."""

    def test_burst_of_2000_connections(self):
        self.start()
        self.warm_up()
        pid = self.server.pid
        baseline = stable_fd_count(pid)
        # setUpModule() raised the descriptor limit where the hard limit allows it.
        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        count = 2000 if limit == resource.RLIM_INFINITY else min(2000, limit - 256)
        if count < 2000:
            report('burst: only %d connections (RLIMIT_NOFILE %d)', count, limit)
        socks = self.clients(count, connect=False)
        poller = select.poll()
        pending = {}
        start = time.monotonic()
        for s in socks:
            s.setblocking(False)
            err = s.connect_ex((lib.LOCALHOST, self.port))
            if err not in (0, errno.EINPROGRESS):
                self.fail('connect: %s' % os.strerror(err))
            poller.register(s, select.POLLOUT)
            pending[s.fileno()] = s
        connected, failed = 0, 0
        while pending and time.monotonic() - start < 15:
            for fd, _ in poller.poll(100):
                s = pending.pop(fd)
                poller.unregister(fd)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    connected += 1
                else:
                    failed += 1
        connect_time = time.monotonic() - start
        for i, s in enumerate(socks):
            try:
                if i % 3 == 0:
                    s.send(b'GET /small.bin HTTP/1.1\r\nHost: a\r\n\r\n')
                elif i % 3 == 1:
                    s.send(b'GET /small.bin HTTP/1.1\r\nHo')
            except OSError:
                pass
        deadline = time.monotonic() + 3
        peak = baseline
        while time.monotonic() < deadline:
            peak = max(peak, fd_count(pid))
            if peak >= baseline + connected * 0.9:
                break
            time.sleep(0.05)
        for i, s in enumerate(socks):
            if i % 2:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            s.close()
        closed_at = time.monotonic()
        after = settled_fd_count(pid, baseline + 2, 10.0)
        settle_time = time.monotonic() - closed_at
        report('burst: %d connections (%d connected in %.2f s, %d failed, %d pending); server '
               'fds %d at baseline, %d peak, %d after closing (%.2f s to settle)', count,
               connected, connect_time, failed, len(pending), baseline, peak, after,
               settle_time)
        self.assertEqual(connected, count)
        self.assertGreater(peak, baseline + count // 2, 'the server did not hold the burst')
        self.assertLessEqual(after, baseline + 2, 'descriptors %d at baseline, %d after:\n%s'
                             % (baseline, after, fd_targets(pid)[:50]))
        self.assertServing()


if __name__ == '__main__':
    unittest.main(verbosity=2)
