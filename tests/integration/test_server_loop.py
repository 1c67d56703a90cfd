"""The default server loop (include/cgihttp/server.hpp, connection.hpp) over real sockets:
keep-alive and closing, pipelining, framing by close, the idle / request-head / body
timeouts, a blocked handler that must not block the loop, lingering close after an error,
many concurrent connections and dual-stack IPv6. Mostly against `cgihttp_test_server echo`
(GET echoes the path, POST the body, UNFRAMED answers without Content-Length)."""

import http.client
import os
import select
import shutil
import socket
import tempfile
import threading
import time
import unittest

import cgihttp_testlib as lib

# Generous upper bounds: CTest may run scripts in parallel, sanitizer builds are slow.
SLACK = 2.0


class LoopTestCase(unittest.TestCase):

    def start(self, kind='echo', *options):
        self.server, self.port = lib.start_test_server(self, kind, *options)
        return self.port

    def connect(self, port=None, host=lib.LOCALHOST, timeout=5.0):
        sock = lib.connect(port or self.port, host, timeout)
        self.addCleanup(sock.close)  # runs before the server's stop (cleanups are LIFO)
        return sock

    def http(self, port=None, host=lib.LOCALHOST, timeout=5.0):
        con = http.client.HTTPConnection(host, port or self.port, timeout=timeout)
        self.addCleanup(con.close)
        return con

    def assertClosedByServer(self, sock, within=SLACK):
        how, elapsed, data = lib.wait_closed(sock, within)
        self.assertEqual(how, 'eof', 'server did not close the connection (%r)' % data)
        self.assertEqual(data, b'', 'unexpected bytes after the response')
        return elapsed


class KeepAliveTest(LoopTestCase):

    def test_two_requests_on_one_connection_http11(self):
        self.start('echo', '--protocol', 'HTTP/1.1')
        con = self.http()
        con.request('GET', '/first')
        res = con.getresponse()
        self.assertEqual(res.status, 200)
        self.assertEqual(res.version, 11)
        self.assertEqual(res.read(), b'/first')
        self.assertFalse(res.will_close)
        sock = con.sock
        self.assertIsNotNone(sock)
        self.assertTrue(lib.is_open(sock, 0.2), 'the server closed a kept-alive connection')
        con.request('GET', '/second')
        res = con.getresponse()
        self.assertIs(con.sock, sock, 'http.client had to reconnect')
        self.assertEqual(res.read(), b'/second')
        con.request('POST', '/', body=b'a body')
        res = con.getresponse()
        self.assertIs(con.sock, sock, 'http.client had to reconnect')
        self.assertEqual(res.read(), b'a body')

    def test_http10_request_closes_after_response(self):
        self.start('echo', '--protocol', 'HTTP/1.1')
        sock = self.connect()
        sock.sendall(b'GET /ten HTTP/1.0\r\n\r\n')
        res = lib.ResponseReader(sock).read_response()
        self.assertEqual((res.version, res.status, res.body), ('HTTP/1.1', 200, b'/ten'))
        self.assertClosedByServer(sock)

    def test_http10_server_closes_http11_request(self):
        self.start('echo')  # protocol_version HTTP/1.0: no keep-alive
        sock = self.connect()
        sock.sendall(b'GET /x HTTP/1.1\r\nHost: a\r\n\r\n')
        res = lib.ResponseReader(sock).read_response()
        self.assertEqual((res.version, res.status, res.body), ('HTTP/1.0', 200, b'/x'))
        self.assertClosedByServer(sock)

    def test_http11_connection_close_closes(self):
        self.start('echo', '--protocol', 'HTTP/1.1')
        sock = self.connect()
        sock.sendall(b'GET /bye HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
        res = lib.ResponseReader(sock).read_response()
        self.assertEqual((res.status, res.body), (200, b'/bye'))
        self.assertClosedByServer(sock)

    def test_pipelined_requests_answered_in_order(self):
        self.start('echo', '--protocol', 'HTTP/1.1')
        sock = self.connect()
        sock.sendall(b'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n'
                     b'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello'
                     b'GET /3 HTTP/1.1\r\nHost: a\r\n\r\n'
                     b'GET /4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
        reader = lib.ResponseReader(sock)
        bodies = [reader.read_response().body for _ in range(4)]
        self.assertEqual(bodies, [b'/1', b'hello', b'/3', b'/4'])
        self.assertClosedByServer(sock)

    def test_many_pipelined_requests(self):
        self.start('echo', '--protocol', 'HTTP/1.1')
        sock = self.connect(timeout=10)
        count = 1000
        sock.sendall(b''.join(b'GET /%d HTTP/1.1\r\nHost: a\r\n\r\n' % i for i in range(count)))
        reader = lib.ResponseReader(sock, timeout=10)
        bodies = [reader.read_response().body for _ in range(count)]
        self.assertEqual(bodies, [b'/%d' % i for i in range(count)])
        self.assertTrue(lib.is_open(sock, 0.1))

    def test_unframed_response_is_delimited_by_close(self):
        self.start('echo', '--protocol', 'HTTP/1.1')
        sock = self.connect()
        # A second request is pipelined: it must not be answered, as only the close can end
        # the first response's body.
        sock.sendall(b'UNFRAMED / HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n')
        data, how = lib.recv_until_close(sock, SLACK)
        self.assertEqual(how, 'eof')
        responses, rest = lib.parse_responses(data)
        self.assertEqual(rest, b'')
        self.assertEqual(len(responses), 1, data)
        res = responses[0]
        self.assertEqual((res.version, res.status), ('HTTP/1.1', 200))
        self.assertIsNone(res.header('Content-Length'))
        self.assertIsNone(res.header('Transfer-Encoding'))
        self.assertEqual(res.body, b'no length\n')


class HalfCloseTest(LoopTestCase):
    """A client may send a request and shut down its sending side (printf ... | nc); the
    server serves what came (connection.hpp, on_read()) and, the client having nothing more
    to send, closes after the response even on a kept-alive HTTP/1.1 connection."""

    def half_closed_exchange(self, request, attempts=5):
        results = []
        for _ in range(attempts):
            with self.connect() as sock:
                sock.sendall(request)
                time.sleep(0.1)  # the server reads the request before it sees the end
                sock.shutdown(socket.SHUT_WR)
                start = time.monotonic()
                data, how = lib.recv_until_close(sock, 0.5)  # keep-alive timeout is 5 s
                results.append((how, data.split(b'\r\n', 1)[0], time.monotonic() - start))
            if how != 'eof':
                break
        return results

    def test_complete_request_then_half_close(self):
        self.start('echo', '--protocol', 'HTTP/1.1')
        for how, status_line, elapsed in self.half_closed_exchange(
                b'GET /hc HTTP/1.1\r\nHost: a\r\n\r\n'):
            self.assertEqual((how, status_line), ('eof', b'HTTP/1.1 200 OK'))

    # A half-close that completes a request: served, then closed at once (not after the
    # keep-alive timeout: no further request can arrive).
    def test_partial_request_head_then_half_close(self):
        self.start('echo', '--protocol', 'HTTP/1.1')
        for how, status_line, elapsed in self.half_closed_exchange(
                b'GET /hc HTTP/1.1\r\nHost: a\r\n'):
            self.assertEqual((how, status_line), ('eof', b'HTTP/1.1 200 OK'))


class TimeoutTest(LoopTestCase):

    def test_idle_keepalive_connection_closed_after_keepalive_timeout(self):
        self.start('echo', '--protocol', 'HTTP/1.1', '--keepalive-ms', '600')
        sock = self.connect()
        sock.sendall(b'GET /idle HTTP/1.1\r\nHost: a\r\n\r\n')
        self.assertEqual(lib.ResponseReader(sock).read_response().body, b'/idle')
        elapsed = self.assertClosedByServer(sock, 0.6 + SLACK)
        self.assertGreaterEqual(elapsed, 0.3, 'closed before half of the keep-alive timeout')

    def test_half_request_head_gets_408_then_close(self):
        self.start('echo', '--header-ms', '500')
        sock = self.connect()
        start = time.monotonic()
        sock.sendall(b'GET /slow HTTP/1.1\r\nHost: a\r\n')  # no empty line
        data, how = lib.recv_until_close(sock, 0.5 + SLACK)
        elapsed = time.monotonic() - start
        self.assertEqual(how, 'eof')
        self.assertGreaterEqual(elapsed, 0.25)
        responses, rest = lib.parse_responses(data)
        self.assertEqual(len(responses), 1, data)
        self.assertEqual(rest, b'')
        res = responses[0]
        self.assertEqual(res.status, 408)
        self.assertEqual(res.header('Connection'), 'close')
        self.assertEqual(int(res.header('Content-Length')), len(res.body))
        self.assertIn(b'Error code: 408', res.body)

    def drip(self, sock, payload, interval=0.1, limit=4.0):
        """Sends payload a byte every `interval` seconds, reading meanwhile, until the server
        closes. Returns (seconds from the first byte, bytes received, how it ended)."""
        received = b''
        start = time.monotonic()
        for i in range(len(payload)):
            if time.monotonic() - start > limit:
                return time.monotonic() - start, received, 'timeout'
            try:
                sock.send(payload[i:i + 1])
            except OSError as e:  # the server closed meanwhile
                more, how = lib.recv_until_close(sock, 1)
                return time.monotonic() - start, received + more, 'send: %s' % e
            deadline = time.monotonic() + interval
            while True:
                left = deadline - time.monotonic()
                readable, _, _ = select.select([sock], [], [], max(0, left))
                if not readable:
                    break
                try:
                    chunk = sock.recv(65536)
                except OSError as e:
                    return time.monotonic() - start, received, 'recv: %s' % e
                if not chunk:
                    return time.monotonic() - start, received, 'eof'
                received += chunk
        return time.monotonic() - start, received, 'sent all'

    def test_slowloris_does_not_extend_header_deadline(self):
        self.start('echo', '--header-ms', '600')
        sock = self.connect()
        payload = b'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ' + b'z' * 100
        elapsed, received, how = self.drip(sock, payload)
        self.assertIn(how, ('eof', 'send: [Errno 32] Broken pipe',
                            'send: [Errno 104] Connection reset by peer'))
        self.assertLess(elapsed, 0.6 + SLACK, 'each byte extended the deadline')
        self.assertGreaterEqual(elapsed, 0.3)
        self.assertTrue(received.startswith(b'HTTP/1.0 408 '), received[:80])

    def test_slowloris_on_kept_alive_connection(self):
        # The deadline of a later request counts from its first byte, not from each byte.
        self.start('echo', '--protocol', 'HTTP/1.1', '--header-ms', '600',
                   '--keepalive-ms', '5000')
        sock = self.connect()
        sock.sendall(b'GET /first HTTP/1.1\r\nHost: a\r\n\r\n')
        self.assertEqual(lib.ResponseReader(sock).read_response().body, b'/first')
        elapsed, received, how = self.drip(sock, b'GET /second HTTP/1.1\r\nX-Slow: ' + b'z' * 100)
        self.assertLess(elapsed, 0.6 + SLACK, 'each byte extended the deadline')
        self.assertGreaterEqual(elapsed, 0.3)
        self.assertTrue(received.startswith(b'HTTP/1.1 408 '), received[:80])

    def test_body_that_never_arrives_times_out(self):
        self.start('echo', '--io-ms', '500')
        sock = self.connect()
        start = time.monotonic()
        sock.sendall(b'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc')
        data, how = lib.recv_until_close(sock, 0.5 + SLACK)
        elapsed = time.monotonic() - start
        # As Python's handle_one_request() on a socket timeout: log it, close, no response.
        self.assertEqual((how, data), ('eof', b''))
        self.assertGreaterEqual(elapsed, 0.25)
        self.assertTrue(self.server.stderr.wait_for(lambda t: 'Request timed out' in t, 2),
                        self.server.stderr.text())


class ConcurrencyTest(LoopTestCase):

    def test_blocked_handler_does_not_block_the_loop(self):
        # One event-loop thread; handlers stuck reading bodies that never come must not keep
        # other clients waiting.
        self.start('echo', '--threads', '1', '--io-ms', '4000')
        stuck = []
        for _ in range(3):
            sock = self.connect()
            sock.sendall(b'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n')
            stuck.append(sock)
        time.sleep(0.2)  # let the handlers block in their body reads
        start = time.monotonic()
        for i in range(5):
            con = self.http(timeout=3)
            con.request('GET', '/other%d' % i)
            res = con.getresponse()
            self.assertEqual(res.read(), b'/other%d' % i)
            con.close()
        self.assertLess(time.monotonic() - start, 1.5)
        # The stuck ones are still waiting, and get served when their bodies come.
        for sock in stuck:
            sock.sendall(b'0123456789')
            self.assertEqual(lib.ResponseReader(sock).read_response().body, b'0123456789')

    def test_request_line_too_long_gets_readable_414(self):
        self.start('echo', '--protocol', 'HTTP/1.1')
        sock = self.connect()
        # The server answers after 65537 bytes; the client is still sending then. Closing
        # with unread input would reset the connection and could destroy the 414 before the
        # client reads it: the server must linger (read and drop) instead.
        request = b'GET /' + b'a' * 200000 + b' HTTP/1.1\r\nHost: a\r\n\r\n'
        sock.sendall(request)
        reader = lib.ResponseReader(sock)
        res = reader.read_response()
        self.assertEqual(res.status, 414)
        self.assertEqual(res.header('Connection'), 'close')
        self.assertEqual(int(res.header('Content-Length')), len(res.body))
        self.assertIn(b'Error code: 414', res.body)
        self.assertTrue(res.body.endswith(b'</html>\n'))
        self.assertClosedByServer(sock)

    def test_header_line_too_long_gets_readable_431(self):
        self.start('echo', '--protocol', 'HTTP/1.1')
        sock = self.connect()
        sock.sendall(b'GET / HTTP/1.1\r\nX-Long: ' + b'h' * 300000 + b'\r\nHost: a\r\n\r\n')
        res = lib.ResponseReader(sock).read_response()
        self.assertEqual(res.status, 431)
        self.assertEqual(int(res.header('Content-Length')), len(res.body))
        self.assertIn(b'Error code: 431', res.body)
        self.assertClosedByServer(sock)

    def test_request_line_too_long_http_client(self):
        self.start('echo', '--protocol', 'HTTP/1.1')
        con = self.http()
        con.request('GET', '/' + 'b' * 100000)
        res = con.getresponse()
        self.assertEqual(res.status, 414)
        self.assertIn(b'Error code: 414', res.read())

    def test_200_concurrent_connections(self):
        self.start('echo', '--protocol', 'HTTP/1.1')
        clients, requests = 200, 3
        barrier = threading.Barrier(clients, timeout=20)
        errors = []
        done = []

        def client(n):
            con = http.client.HTTPConnection(lib.LOCALHOST, self.port, timeout=20)
            try:
                con.connect()
                barrier.wait()  # all 200 connections open at once
                first = con.sock
                for r in range(requests):
                    path = '/client%d/request%d' % (n, r)
                    con.request('GET', path)
                    res = con.getresponse()
                    body = res.read()
                    if res.status != 200 or body != path.encode() or con.sock is not first:
                        errors.append((n, r, res.status, body))
                done.append(n)
            except Exception as e:  # reported below
                errors.append((n, repr(e)))
                barrier.abort()
            finally:
                con.close()

        threads = [threading.Thread(target=client, args=(n,), daemon=True)
                   for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(25)
        self.assertEqual(errors[:5], [])
        self.assertEqual(len(done), clients)


class IPv6Test(LoopTestCase):

    def setUp(self):
        if not socket.has_ipv6:
            self.skipTest('no IPv6 support')
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(('::1', 0))
        except OSError as e:
            self.skipTest('cannot bind ::1: %s' % e)

    def test_dual_stack_wildcard(self):
        docroot = tempfile.mkdtemp(prefix='cgihttp-loop-')
        self.addCleanup(shutil.rmtree, docroot, True)
        with open(os.path.join(docroot, 'index.html'), 'wb') as f:
            f.write(b'<!DOCTYPE html><title>dual stack</title>\n')
        demo = lib.start_process(self, [lib.binary('CGIHTTP_DEMO'), '-d', docroot, '-b', '::',
                                        '0'], ready=r'Serving HTTP on :: port (\d+) ')
        port = int(demo.ready_match.group(1))
        for host in ('::1', '127.0.0.1'):
            con = self.http(port, host)
            con.request('GET', '/')
            res = con.getresponse()
            self.assertEqual(res.status, 200, host)
            self.assertEqual(len(res.read()), int(res.getheader('Content-Length')))
        # The access log shows an IPv4 client as 127.0.0.1, not ::ffff:127.0.0.1.
        log = demo.stderr.wait_for(lambda t: t if t.count('\n') >= 2 else '', 2)
        lines = log.splitlines()
        self.assertTrue(lines[0].startswith('::1 - - ['), log)
        self.assertTrue(lines[1].startswith('127.0.0.1 - - ['), log)


if __name__ == '__main__':
    unittest.main()
