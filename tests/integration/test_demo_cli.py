"""The demo server examples/cgihttpserver as a process: the command line of
`python3 -m http.server` (argparse-style usage and errors), the "Serving HTTP on ..."
banner, HTTP/1.0 and HTTP/1.1 behaviour, signals and the access log on stderr."""

import http.client
import os
import shutil
import signal
import socket
import struct
import tempfile
import time
import unittest

import cgihttp_testlib as lib

CURL = '/usr/bin/curl'
SLACK = 2.0  # CTest may run scripts in parallel, sanitizer builds are slow
USAGE = ('usage: cgihttpserver [-h] [--cgi] [-b ADDRESS] [-d DIRECTORY] [-p VERSION]\n'
         '                     [--tls-cert PATH] [--tls-key PATH] [--tls-password-file PATH]\n'
         '                     [-q] [port]\n')


def have_ipv6():
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(('::1', 0))
        return True
    except OSError:
        return False


INDEX = b'<!DOCTYPE html><title>index</title><p>cgihttp demo test\n'


class DemoTestCase(unittest.TestCase):
    """Each test serves a fresh directory holding index.html (so "/" answers 200 whether
    the demo lists directories, serves files or answers a fixed page)."""
    BANNER = (r'Serving HTTP on (?P<host>\S+) port (?P<port>\d+) '
              r'\(http://(?P<url_host>\S+):(?P=port)/\) \.\.\.\n')

    def setUp(self):
        self.docroot = tempfile.mkdtemp(prefix='cgihttp-demo-')
        self.addCleanup(shutil.rmtree, self.docroot, True)
        with open(os.path.join(self.docroot, 'index.html'), 'wb') as f:
            f.write(INDEX)

    def demo(self, *args, cwd=None):
        """Starts the demo (serving self.docroot unless told otherwise); returns (process,
        port, banner match)."""
        if '-d' not in args and '--directory' not in args:
            args = ('-d', self.docroot) + args
        proc = lib.start_process(self, [lib.binary('CGIHTTP_DEMO')] + list(args),
                                 ready=self.BANNER, cwd=cwd)
        match = proc.ready_match
        return proc, int(match.group('port')), match

    def run_demo(self, *args):
        return lib.run_program([lib.binary('CGIHTTP_DEMO')] + list(args), timeout=10)

    def get(self, port, path='/', host=lib.LOCALHOST, con=None):
        if con is None:
            con = http.client.HTTPConnection(host, port, timeout=5)
            self.addCleanup(con.close)
        con.request('GET', path)
        res = con.getresponse()
        return res, res.read()


class BannerTest(DemoTestCase):

    def test_port_zero_all_interfaces(self):
        proc, port, m = self.demo('0')
        self.assertNotEqual(port, 0)
        # All interfaces: dual-stack "::" where IPv6 exists, else "0.0.0.0", as Python's
        # http.server prints them.
        self.assertIn(m.group('host'), ('0.0.0.0', '::'))
        url_host = '[::]' if m.group('host') == '::' else '0.0.0.0'
        self.assertEqual(m.group(0), 'Serving HTTP on %s port %d (http://%s:%d/) ...\n'
                         % (m.group('host'), port, url_host, port))
        res, body = self.get(port)
        self.assertEqual(res.status, 200)

    def test_bind_ipv4_loopback(self):
        proc, port, m = self.demo('-b', '127.0.0.1', '0')
        self.assertEqual(proc.stdout.text(),
                         'Serving HTTP on 127.0.0.1 port %d (http://127.0.0.1:%d/) ...\n'
                         % (port, port))

    def test_bind_ipv6_loopback(self):
        if not have_ipv6():
            self.skipTest('no IPv6 loopback')
        proc, port, m = self.demo('-b', '::1', '0')
        self.assertEqual(proc.stdout.text(),
                         'Serving HTTP on ::1 port %d (http://[::1]:%d/) ...\n' % (port, port))
        res, body = self.get(port, '/', host='::1')
        self.assertEqual(res.status, 200)
        self.assertEqual(int(res.getheader('Content-Length')), len(body))

    def test_option_forms(self):
        # argparse accepts --long=value and -Xvalue as well as separate words.
        proc, port, m = self.demo('--bind=127.0.0.1', '-pHTTP/1.1', '0')
        self.assertEqual(m.group('host'), '127.0.0.1')
        res, body = self.get(port)
        self.assertEqual(res.version, 11)


class ServingTest(DemoTestCase):

    def test_get_with_http_client(self):
        proc, port, m = self.demo('-b', '127.0.0.1', '0')
        res, body = self.get(port, '/index.html?q=1')
        self.assertEqual(res.status, 200)
        self.assertEqual(res.version, 10)
        self.assertTrue(res.getheader('Content-Type').startswith('text/html'),
                        res.getheader('Content-Type'))
        self.assertEqual(int(res.getheader('Content-Length')), len(body))
        self.assertTrue(res.will_close)

    def test_head(self):
        proc, port, m = self.demo('-b', '127.0.0.1', '0')
        con = http.client.HTTPConnection(lib.LOCALHOST, port, timeout=5)
        self.addCleanup(con.close)
        con.request('HEAD', '/index.html')
        res = con.getresponse()
        self.assertEqual(res.status, 200)
        self.assertGreater(int(res.getheader('Content-Length')), 0)
        self.assertEqual(res.read(), b'')

    def test_get_with_curl(self):
        lib.require_tool('curl')
        proc, port, m = self.demo('-b', '127.0.0.1', '0')
        out = lib.run_program([CURL, '-sS', '--noproxy', '*', '-m', '5',
                               '-w', '\n%{http_code} %{http_version}',
                               'http://127.0.0.1:%d/index.html' % port])
        self.assertEqual(out.returncode, 0, out.stderr)
        body, _, status = out.stdout.rpartition('\n')
        self.assertEqual(status, '200 1')  # an HTTP/1.0 answer by default
        self.assertTrue(body.startswith('<!DOCTYPE'), body[:60])

    def test_curl_reuses_connection_with_http11(self):
        lib.require_tool('curl')
        proc, port, m = self.demo('-b', '127.0.0.1', '-p', 'HTTP/1.1', '0')
        out = lib.run_program([CURL, '-sSv', '--noproxy', '*', '-m', '5',
                               'http://127.0.0.1:%d/index.html' % port,
                               'http://127.0.0.1:%d/' % port])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stderr, r'(?i)re-?using existing connection')
        self.assertEqual(out.stderr.count('< HTTP/1.1 200 OK'), 2, out.stderr)

    def test_protocol_http11_keeps_alive(self):
        proc, port, m = self.demo('-b', '127.0.0.1', '-p', 'HTTP/1.1', '0')
        con = http.client.HTTPConnection(lib.LOCALHOST, port, timeout=5)
        self.addCleanup(con.close)
        res, body = self.get(port, '/', con=con)
        self.assertEqual((res.status, res.version, res.will_close), (200, 11, False))
        sock = con.sock
        self.assertTrue(lib.is_open(sock, 0.2))
        res, body = self.get(port, '/index.html', con=con)
        self.assertEqual(res.status, 200)
        self.assertIs(con.sock, sock)
        # The status line, as sent.
        with lib.connect(port) as raw:
            raw.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
            self.assertEqual(lib.ResponseReader(raw).read_response().version, 'HTTP/1.1')

    def test_default_protocol_http10_closes(self):
        proc, port, m = self.demo('-b', '127.0.0.1', '0')
        with lib.connect(port) as raw:
            raw.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
            data, how = lib.recv_until_close(raw, 3)
        self.assertEqual(how, 'eof')
        self.assertTrue(data.startswith(b'HTTP/1.0 200 OK\r\n'), data[:40])
        responses, rest = lib.parse_responses(data)
        self.assertEqual((len(responses), rest), (1, b''))

    def test_access_log_format(self):
        proc, port, m = self.demo('-b', '127.0.0.1', '0')
        with lib.connect(port) as raw:
            raw.sendall(b'GET / HTTP/1.0\r\n\r\n')
            lib.recv_until_close(raw, 3)
        log = proc.stderr.wait_for(lambda t: t if t.endswith('\n') else '', 3)
        self.assertRegex(log, r'\A127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4} \d\d:\d\d:\d\d\] '
                              r'"GET / HTTP/1\.0" 200 -\n\Z')
        # Today's date, in the local time zone as Python's log_date_time_string().
        day = time.strftime('%d/%b/%Y')
        self.assertIn('[' + day, log)

    def test_directory_that_exists(self):
        proc, port, m = self.demo('-b', '127.0.0.1', '--directory', self.docroot, '0')
        res, body = self.get(port)
        self.assertEqual(res.status, 200)


class SignalTest(DemoTestCase):

    def test_sigint(self):
        proc, port, m = self.demo('-b', '127.0.0.1', '0')
        self.get(port)  # served something first
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(5)
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(code, 0)
        self.assertTrue(proc.stdout.text().endswith('\nKeyboard interrupt received, exiting.\n'),
                        proc.stdout.text())

    def test_sigint_with_idle_keepalive_connection(self):
        # An idle kept-alive connection must not hold the exit up.
        proc, port, m = self.demo('-b', '127.0.0.1', '-p', 'HTTP/1.1', '0')
        con = http.client.HTTPConnection(lib.LOCALHOST, port, timeout=5)
        self.addCleanup(con.close)
        self.get(port, con=con)
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(5), 0)
        self.assertLess(time.monotonic() - start, 2)
        self.assertEqual(lib.wait_closed(con.sock, 1)[0], 'eof')

    def test_sigterm(self):
        proc, port, m = self.demo('-b', '127.0.0.1', '0')
        self.get(port)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(5), 0)
        self.assertNotIn('Keyboard interrupt', proc.stdout.text())


BIG = 16 << 20  # larger than what socket buffers hold


class AbortedDownloadTest(DemoTestCase):
    """A download the client gives up (or a shutdown cuts) must end that connection only."""

    def start_download(self):
        """Starts the demo and a GET of a 16 MiB file whose body the client does not read;
        returns (process, port, socket). Skips if this demo does not serve files."""
        with open(os.path.join(self.docroot, 'big.bin'), 'wb') as f:
            f.truncate(BIG)
        proc, port, m = self.demo('-b', '127.0.0.1', '0')
        sock = lib.connect(port)
        self.addCleanup(sock.close)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        sock.sendall(b'GET /big.bin HTTP/1.0\r\n\r\n')
        head = b''
        while b'\r\n\r\n' not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
        self.assertTrue(head.startswith(b'HTTP/1.0 200 '), head[:80])
        self.assertIn(b'Content-Length: %d\r\n' % BIG, head)
        return proc, port, sock

    # sendfile(2) has no MSG_NOSIGNAL: a reset client must not kill the server by SIGPIPE.
    def test_client_reset_during_download(self):
        proc, port, sock = self.start_download()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        sock.close()  # with SO_LINGER 0: a reset
        time.sleep(0.3)
        self.assertTrue(proc.running(), 'the server died: exit %r' % proc.returncode)
        res, body = self.get(port)
        self.assertEqual(res.status, 200)

    # At the end of the shutdown grace period busy connections are cut; the download's
    # next sendfile(2) must fail quietly, so Ctrl-C still ends the demo with exit 0.
    def test_sigint_during_stuck_download(self):
        proc, port, sock = self.start_download()
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(10)
        # Requests in progress get shutdown_timeout (5 s) to finish, then are cut.
        self.assertLess(time.monotonic() - start, 5 + SLACK)
        self.assertEqual(code, 0)
        self.assertTrue(proc.stdout.text().endswith('\nKeyboard interrupt received, exiting.\n'))


class CommandLineTest(DemoTestCase):

    def assertUsageError(self, args, message):
        out = self.run_demo(*args)
        self.assertEqual(out.returncode, 2, out)
        self.assertEqual(out.stdout, '')
        self.assertIn('usage:', out.stderr)
        self.assertIn('error:', out.stderr)
        self.assertEqual(out.stderr, USAGE + 'cgihttpserver: error: ' + message + '\n')

    def test_help(self):
        for flag in ('-h', '--help'):
            out = self.run_demo(flag)
            self.assertEqual(out.returncode, 0)
            self.assertTrue(out.stdout.startswith(USAGE), out.stdout)
            for option in ('--cgi', '-b ADDRESS, --bind ADDRESS',
                           '-d DIRECTORY, --directory DIRECTORY',
                           '-p VERSION, --protocol VERSION', 'port'):
                self.assertIn(option, out.stdout)
            self.assertEqual(out.stderr, '')

    def test_bad_option(self):
        self.assertUsageError(['--bogus'], 'unrecognized arguments: --bogus')

    def test_non_numeric_port(self):
        self.assertUsageError(['80a'], "argument port: invalid int value: '80a'")

    def test_port_out_of_range(self):
        self.assertUsageError(['70000'], 'argument port: port must be 0-65535, not 70000')

    def test_missing_option_value(self):
        self.assertUsageError(['-b'], 'argument -b/--bind: expected one argument')
        self.assertUsageError(['--directory'],
                              'argument -d/--directory: expected one argument')
        self.assertUsageError(['-p', '-b', 'x'], 'argument -p/--protocol: expected one argument')

    def test_second_port(self):
        self.assertUsageError(['8000', '8001'], 'unrecognized arguments: 8001')

    def test_bad_protocol(self):
        self.assertUsageError(['-p', 'HTTP/x'],
                              "argument -p/--protocol: not an HTTP version: 'HTTP/x'")

    def test_tls_options_need_a_certificate(self):
        # Python 3.14's checks, made before anything is loaded, in every build.
        self.assertUsageError(['--tls-key', 'key.pem'], '--tls-key requires --tls-cert to be set')
        self.assertUsageError(['--tls-password-file', 'pw'],
                              '--tls-password-file requires --tls-cert to be set')
        self.assertUsageError(['--tls-cert'], 'argument --tls-cert: expected one argument')

    def test_tls_in_a_build_without_openssl(self):
        if os.environ.get('CGIHTTP_TLS', '1') != '0':
            self.skipTest('this build has HTTPS: test_https.py covers --tls-cert')
        out = self.run_demo('-b', '127.0.0.1', '--tls-cert', 'cert.pem', '0')
        self.assertEqual(out.returncode, 1)
        self.assertEqual(out.stdout, '')
        self.assertEqual(out.stderr, 'cgihttpserver: this build has no HTTPS: install libssl-dev '
                                     'and rebuild (CMake option CGIHTTP_TLS)\n')

    def test_port_in_use(self):
        with socket.socket() as taken:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            taken.bind((lib.LOCALHOST, 0))
            taken.listen()
            port = taken.getsockname()[1]
            out = self.run_demo('-b', '127.0.0.1', str(port))
        self.assertNotEqual(out.returncode, 0)
        self.assertEqual(out.stdout, '')
        self.assertEqual(out.stderr, 'cgihttpserver: cannot serve on 127.0.0.1 port %d: '
                                     'Address already in use\n' % port)

    def test_directory_missing(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        missing = os.path.join(tmp, 'no-such-dir')
        out = self.run_demo('-b', '127.0.0.1', '-d', missing, '0')
        self.assertNotEqual(out.returncode, 0)
        self.assertNotIn('Serving HTTP', out.stdout)
        self.assertIn(missing, out.stderr)
        self.assertIn('No such file or directory', out.stderr)


if __name__ == '__main__':
    unittest.main()
