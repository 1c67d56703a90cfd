"""The examples as programs: hello_handler (the default server loop, HTTP/1.1 keep-alive)
and own_loop (a user's blocking accept loop that hands each socket to handle())."""

import http.client
import unittest

import cgihttp_testlib as lib


class HelloHandlerTest(unittest.TestCase):

    def setUp(self):
        self.proc = lib.start_process(self, [lib.binary('CGIHTTP_HELLO'), '0'],
                                      ready=r'hello_handler on port (\d+)\n')
        self.port = int(self.proc.ready_match.group(1))
        self.assertNotEqual(self.port, 0)

    def connection(self):
        con = http.client.HTTPConnection(lib.LOCALHOST, self.port, timeout=5)
        self.addCleanup(con.close)
        return con

    def test_get(self):
        con = self.connection()
        con.request('GET', '/world')
        res = con.getresponse()
        body = res.read()
        self.assertEqual(res.status, 200)
        self.assertEqual(res.getheader('Content-Type'), 'text/html; charset=utf-8')
        self.assertEqual(body, b'<!DOCTYPE html><title>Hello</title><p>Hello from /world\n')
        self.assertEqual(int(res.getheader('Content-Length')), len(body))

    def test_keep_alive(self):
        con = self.connection()
        con.request('GET', '/1')
        res = con.getresponse()
        self.assertEqual((res.status, res.version, res.will_close), (200, 11, False))
        self.assertIn(b'Hello from /1', res.read())
        sock = con.sock
        self.assertTrue(lib.is_open(sock, 0.2))
        for path in ('/2', '/3'):
            con.request('GET', path)
            res = con.getresponse()
            self.assertIn(b'Hello from ' + path.encode(), res.read())
            self.assertIs(con.sock, sock, 'the connection was not kept alive')

    def test_unsupported_method(self):
        con = self.connection()
        con.request('POST', '/', body=b'x')
        res = con.getresponse()
        self.assertEqual(res.status, 501)
        self.assertIn(b"Unsupported method ('POST')", res.read())


class OwnLoopTest(unittest.TestCase):

    def test_serves_two_connections_then_exits(self):
        proc = lib.start_process(self, [lib.binary('CGIHTTP_OWN_LOOP'), '0', '2'],
                                 ready=r'own_loop on port (\d+)\n')
        port = int(proc.ready_match.group(1))
        for n in (1, 2):
            con = http.client.HTTPConnection(lib.LOCALHOST, port, timeout=5)
            self.addCleanup(con.close)
            con.request('GET', '/conn%d' % n)
            res = con.getresponse()
            self.assertEqual(res.status, 200)
            self.assertEqual(res.version, 10)
            self.assertTrue(res.will_close)
            self.assertEqual(res.read(), b'You asked for /conn%d\n' % n)
            con.close()
        self.assertEqual(proc.wait(5), 0, proc.stderr.text())
        self.assertEqual(proc.stdout.text(), 'own_loop on port %d\n' % port)

    def test_connections_are_served_one_after_another(self):
        proc = lib.start_process(self, [lib.binary('CGIHTTP_OWN_LOOP'), '0', '2'],
                                 ready=r'own_loop on port (\d+)\n')
        port = int(proc.ready_match.group(1))
        first = lib.connect(port)
        self.addCleanup(first.close)
        second = lib.connect(port)  # accepted by the kernel, not yet by the loop
        self.addCleanup(second.close)
        second.sendall(b'GET /second HTTP/1.0\r\n\r\n')
        self.assertTrue(lib.is_open(second, 0.3), 'served while the first was open')
        first.sendall(b'GET /first HTTP/1.0\r\n\r\n')
        data, how = lib.recv_until_close(first, 5)
        self.assertEqual(how, 'eof')
        self.assertTrue(data.endswith(b'\r\n\r\nYou asked for /first\n'), data)
        data, how = lib.recv_until_close(second, 5)
        self.assertEqual(how, 'eof')
        self.assertTrue(data.endswith(b'\r\n\r\nYou asked for /second\n'), data)
        self.assertEqual(proc.wait(5), 0)


if __name__ == '__main__':
    unittest.main()
