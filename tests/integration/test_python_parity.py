"""Side by side with Python 3.11's http.server: the same raw requests are sent to a Python
BaseHTTPRequestHandler whose handler mirrors `cgihttp_test_server base` (the request_handler
of BaseHTTPServerTestCase in test_httpservers.py) and to the cgihttp server itself. For each
request the status lines, the Content-Type, Content-Length and Connection headers (plus any
header a case names), the bodies byte for byte, and whether the server closed the connection
are compared; Server and Date are ignored. A table of what was compared is printed.

Where cgihttp differs on purpose, and documents it in its headers, the case states the
documented behaviour and the test asserts that instead (see `Documented` below).
"""

import sys
import threading
import unittest
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cgihttp_testlib as lib


class PythonBaseHandler(BaseHTTPRequestHandler):
    """BaseHTTPServerTestCase.request_handler of Python's test_httpservers.py."""
    protocol_version = 'HTTP/1.1'
    default_request_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def parse_request(self):
        ok = super().parse_request()
        # gh-87389, as Python 3.11.4+ does (and cgihttp): for older 3.11 releases.
        if ok and self.path.startswith('//'):
            self.path = '/' + self.path.lstrip('/')
        return ok

    def do_TEST(self):
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header('Content-Type', 'text/html')
        self.send_header('Connection', 'close')
        self.end_headers()

    def do_KEEP(self):
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header('Content-Type', 'text/html')
        self.send_header('Connection', 'keep-alive')
        self.end_headers()

    def do_KEYERROR(self):
        self.send_error(999)

    def do_NOTFOUND(self):
        self.send_error(HTTPStatus.NOT_FOUND)

    def do_EXPLAINERROR(self):
        self.send_error(999, "Short Message",
                        "This is a long \n explanation")

    def do_CUSTOM(self):
        self.send_response(999)
        self.send_header('Content-Type', 'text/html')
        self.send_header('Connection', 'close')
        self.end_headers()

    def do_LATINONEHEADER(self):
        self.send_response(999)
        self.send_header('X-Special', 'Dängerous Mind')
        self.send_header('Connection', 'close')
        self.end_headers()
        body = self.headers['x-special-incoming'].encode('utf-8')
        self.wfile.write(body)

    def do_SEND_ERROR(self):
        self.send_error(int(self.path[1:]))

    def do_HEAD(self):
        self.send_error(int(self.path[1:]))


# ---- The requests ----------------------------------------------------------------------

H = b'Host: parity'


def req(line, *fields, end=True):
    """A request: its line, header fields, and (unless end=False) the empty line."""
    head = line + b'\r\n' + b''.join(f + b'\r\n' for f in fields)
    return head + b'\r\n' if end else head


class Documented:
    """A difference cgihttp documents: `where` names the documentation, `check(result)`
    asserts cgihttp's documented behaviour (result as observe() returns it)."""

    def __init__(self, where, why, check):
        self.where, self.why, self.check = where, why, check


def status_is(code, closed=True):
    def check(testcase, result):
        testcase.assertEqual(len(result['responses']), 1, result)
        testcase.assertEqual(result['responses'][0]['status'], code)
        testcase.assertEqual(result['closed'], closed)
        testcase.assertEqual(result['rest'], b'')
    return check


def error_page(code, message):
    """Checks a send_error() response of cgihttp: code, reason and the page's message."""
    def check(testcase, result):
        status_is(code)(testcase, result)
        response = result['responses'][0]
        testcase.assertEqual(response['status_line'], 'HTTP/1.1 %d %s' % (code, message))
        testcase.assertIn(b'<p>Message: ' + message.replace('&', '&amp;').replace(
            '<', '&lt;').replace('>', '&gt;').encode('latin-1') + b'.</p>', response['body'])
    return check


def python_page(code, message, explain):
    """Python 3.11's DEFAULT_ERROR_MESSAGE, for bodies only cgihttp sends."""
    import html
    from http.server import DEFAULT_ERROR_MESSAGE
    return (DEFAULT_ERROR_MESSAGE % {'code': code, 'message': html.escape(message, False),
                                     'explain': html.escape(explain, False)}).encode('utf-8')


def simple_answer(testcase, result):
    # "GET /" with default_request_version 'HTTP/1.1': Python answers "HTTP/1.1 501 ..." after
    # reading a header section; cgihttp answers the HTTP/0.9 way (no status line, no header
    # section read) with the same page.
    testcase.assertEqual(result['responses'], [])
    testcase.assertTrue(result['closed'])
    testcase.assertEqual(result['rest'], python_page(
        501, "Unsupported method ('GET')", 'Server does not support this operation'))


def not_split_at(byte):
    # cgihttp splits the request line at ASCII whitespace only; Python's str.split() of the
    # latin-1 text also splits at \x85 and \xa0, so the request has a valid version there.
    def check(testcase, result):
        status_is(400)(testcase, result)
        reason = result['responses'][0]['reason']
        testcase.assertTrue(reason.startswith('Bad request version ('), reason)
        testcase.assertIn('\\x%02x' % byte, reason)
    return check


STRICT_HEADERS = ('include/cgihttp/request_parser.hpp, parse_header_line(): "Stricter than '
                  'Python\'s email parser, as RFC 9112 section 5 asks"')
FRAMING = ('include/cgihttp/request_parser.hpp, determine_body_framing(): refuses "what request '
           'smuggling relies on"')
REPR_ASCII = ('include/cgihttp/detail/strings.hpp, python_repr(): "Non-ASCII bytes are written '
              'as \\xNN, so the result is plain ASCII"')

# (name, request bytes, method for framing, extra headers to compare, Documented or None)
CASES = [
    # Methods of the handler, and unsupported ones.
    ('TEST', req(b'TEST / HTTP/1.1', H), 'TEST', (), None),
    ('TEST HTTP/1.0', req(b'TEST / HTTP/1.0'), 'TEST', (), None),
    ('KEEP (stays open)', req(b'KEEP / HTTP/1.1', H), 'KEEP', (), None),
    ('KEEP HTTP/1.0', req(b'KEEP / HTTP/1.0'), 'KEEP', (), None),
    ('KEEP + Connection: close', req(b'KEEP / HTTP/1.1', H, b'Connection: close'), 'KEEP', (),
     None),
    ('KEYERROR (999 unknown)', req(b'KEYERROR / HTTP/1.1', H), 'KEYERROR', (), None),
    ('NOTFOUND', req(b'NOTFOUND / HTTP/1.1', H), 'NOTFOUND', (), None),
    ('EXPLAINERROR', req(b'EXPLAINERROR / HTTP/1.1', H), 'EXPLAINERROR', (), None),
    ('CUSTOM (999, no reason)', req(b'CUSTOM / HTTP/1.1', H), 'CUSTOM', (), None),
    ('LATINONEHEADER', req(b'LATINONEHEADER / HTTP/1.1', H,
                           'X-Special-Incoming: Ärger mit Unicode'.encode('latin-1')),
     'LATINONEHEADER', ('X-Special',), None),
    ('GET (no do_GET)', req(b'GET / HTTP/1.1', H), 'GET', (), None),
    ('GET HTTP/1.0', req(b'GET / HTTP/1.0'), 'GET', (), None),
    ('GET Connection: keep-alive', req(b'GET / HTTP/1.1', H, b'Connection: keep-alive'), 'GET',
     (), None),
    ('lower-case method', req(b'get / HTTP/1.1', H), 'get', (), None),
    ('unknown method', req(b'XYZBOGUS / HTTP/1.1', H), 'XYZBOGUS', (), None),
    ('method with <&>', req(b'G<&>T / HTTP/1.1', H), 'G<&>T', (), None),
    ('method with quote', req(b"GE'T / HTTP/1.1", H), "GE'T", (), None),
    ('request line with LF only', b'TEST / HTTP/1.1\nHost: x\n\n', 'TEST', (), None),
    ('tabs and spaces', req(b'TEST\t/  \tHTTP/1.1 ', H), 'TEST', (), None),
    ('VT and FF separate words', req(b'TEST\x0b/\x0cHTTP/1.1', H), 'TEST', (), None),
    ('\\x1c, \\x1d separate words', req(b'TEST\x1c/\x1dHTTP/1.1', H), 'TEST', (), None),
    ('\\x1e, \\x1f separate words', req(b'TEST\x1e/\x1f HTTP/1.1', H), 'TEST', (), None),
    ('version with leading zeros', req(b'TEST / HTTP/01.01', H), 'TEST', (), None),
    ('trimming HTTP/1.1\\n', b'XYZBOGUS / HTTP/1.1\n\r\n', 'XYZBOGUS', (), None),
    # Bad versions: answered before any header is read, so only the line is sent.
    ('version FUBAR', b'GET / FUBAR\r\n', 'GET', (), None),
    ('version HTTP/9.9.9', b'GET / HTTP/9.9.9\r\n', 'GET', (), None),
    ('version signs, underscores', b'GET / HTTP/-9_9_9.+9_9_9\r\n', 'GET', (), None),
    ('version major too long', b'GET / HTTP/909876543210.0\r\n', 'GET', (), None),
    ('version minor too long', b'GET / HTTP/1.909876543210\r\n', 'GET', (), None),
    ('version HTTP/1', b'GET / HTTP/1\r\n', 'GET', (), None),
    ('version http/1.1', b'GET / http/1.1\r\n', 'GET', (), None),
    ('version HTTP/1.1.', b'GET / HTTP/1.1.\r\n', 'GET', (), None),
    ('version HTTP/1.x', b'GET / HTTP/1.x\r\n', 'GET', (), None),
    ('version with \\x01', b'GET / HTTP/1.1\x01\r\n', 'GET', (), None),
    ('version with quote', b"GET / HTTP/'1\r\n", 'GET', (), None),
    ('version with both quotes', b'GET / HTTP/\'1"\r\n', 'GET', (), None),
    ('version with backslash', b'GET / HTTP/1\\1\r\n', 'GET', (), None),
    ('version with <tag>', b'GET / <b>\r\n', 'GET', (), None),
    ('HTTP/2.0', b'GET / HTTP/2.0\r\n', 'GET', (), None),
    ('HTTP/9.9', b'GET / HTTP/9.9\r\n', 'GET', (), None),
    ('HTTP/10.0', b'GET / HTTP/10.0\r\n', 'GET', (), None),
    ('HTTP/2.0, 4 words', b'GET / / HTTP/2.0\r\n', 'GET', (), None),
    # Bad syntax and HTTP/0.9.
    ('one word', b'GET\r\n', 'GET', (), None),
    ('four words', b'GET / / HTTP/1.1\r\n', 'GET', (), None),
    ('blank method (send_blank)', b' / \r\n', '', (), None),
    ('four words with quote', b"GET ' ' HTTP/1.1\r\n", 'GET', (), None),
    ('0.9 POST', b'POST /\r\n', 'POST', (), None),
    ('0.9 CUSTOM', b'CUSTOM /\r\n', 'CUSTOM', (), None),
    ('0.9 GET', b'GET /\r\n\r\n', 'GET', (), Documented(
        'include/cgihttp/base_request_handler.hpp, default_request_version',
        'a simple request ("GET /path") gets an HTTP/0.9 answer (no status line)',
        simple_answer)),
    # Lengths and counts (http.client's _MAXLINE and _MAXHEADERS). Each request holds no
    # byte more than Python reads, so that Python's close does not reset the connection.
    ('request line 65537 bytes', b'GET /' + b'a' * (65537 - 5), 'GET', (), None),
    ('request line 65536 bytes', b'TEST /' + b'a' * (65536 - 17) + b' HTTP/1.1\r\n\r\n',
     'TEST', (), None),
    ('header line 65537 bytes', b'TEST / HTTP/1.1\r\nX-Long: ' + b'b' * (65537 - 8), 'TEST',
     (), None),
    ('header line 65536 bytes', b'TEST / HTTP/1.1\r\nX-Long: ' + b'b' * (65536 - 10)
     + b'\r\n\r\n', 'TEST', (), None),
    ('100 header fields', req(b'TEST / HTTP/1.1', *[b'X-%d: v' % i for i in range(100)]),
     'TEST', (), None),
    ('99 header fields', req(b'TEST / HTTP/1.1', *[b'X-%d: v' % i for i in range(99)]),
     'TEST', (), None),
    # send_error() for codes without a body, and HEAD through send_error().
] + [
    ('SEND_ERROR %d' % code, req(b'SEND_ERROR /%d HTTP/1.1' % code, H), 'SEND_ERROR', (),
     None) for code in (200, 204, 205, 304, 404, 500, 999)
] + [
    ('HEAD via send_error %d' % code, req(b'HEAD /%d HTTP/1.1' % code, H), 'HEAD', (), None)
    for code in (200, 204, 205, 304, 404, 501, 999)
] + [
    # Expect: 100-continue (HTTP/1.1 server, HTTP/1.1 request only).
    ('Expect 100-continue TEST', req(b'TEST / HTTP/1.1', H, b'Expect: 100-continue'), 'TEST',
     (), None),
    ('Expect 100-Continue (case)', req(b'TEST / HTTP/1.1', H, b'Expect: 100-Continue'), 'TEST',
     (), None),
    ('Expect 100-continue KEEP', req(b'KEEP / HTTP/1.1', H, b'Expect: 100-continue'), 'KEEP',
     (), None),
    ('Expect 100-continue GET', req(b'GET / HTTP/1.1', H, b'Expect: 100-continue'), 'GET', (),
     None),
    ('Expect 100-continue HTTP/1.0', req(b'TEST / HTTP/1.0', b'Expect: 100-continue'), 'TEST',
     (), None),
    ('Expect: something else', req(b'TEST / HTTP/1.1', H, b'Expect: 200-ok'), 'TEST', (),
     None),
    # gh-87389: a path starting with // is reduced to one /.
    ('// prefix SEND_ERROR', req(b'SEND_ERROR //404 HTTP/1.1', H), 'SEND_ERROR', (), None),
    ('/// prefix HEAD', req(b'HEAD ///200 HTTP/1.1', H), 'HEAD', (), None),
    # Documented differences: stricter header parsing and framing.
    ('header line without colon', req(b'TEST / HTTP/1.1', H, b'No colon here'), 'TEST', (),
     Documented(STRICT_HEADERS, 'a line that is not "name: value" gets 400',
                error_page(400, "Bad header line ('No colon here')"))),
    ('obs-fold continuation', req(b'TEST / HTTP/1.1', b'X-A: b', b'  c'), 'TEST', (),
     Documented(STRICT_HEADERS, 'obsolete line folding gets 400',
                error_page(400, "Obsolete line folding is not accepted ('  c')"))),
    ('space before colon', req(b'TEST / HTTP/1.1', b'X-A : b'), 'TEST', (),
     Documented(STRICT_HEADERS, 'space between name and colon gets 400',
                error_page(400, "Bad header line ('X-A : b')"))),
    ('Content-Length and chunked', req(b'TEST / HTTP/1.1', H, b'Content-Length: 0',
                                       b'Transfer-Encoding: chunked'), 'TEST', (),
     Documented(FRAMING, 'both framings at once get 400',
                error_page(400, 'Both Content-Length and Transfer-Encoding'))),
    ('bad Content-Length', req(b'TEST / HTTP/1.1', H, b'Content-Length: -1'), 'TEST', (),
     Documented(FRAMING, 'a malformed length gets 400', error_page(400, 'Bad Content-Length'))),
    ('header name with (', req(b'TEST / HTTP/1.1', H, b'X(a): b'), 'TEST', (),
     Documented(STRICT_HEADERS, 'a field name that is not a token gets 400',
                error_page(400, "Bad header line ('X(a): b')"))),
    ('head over 128 KiB', req(b'TEST / HTTP/1.1', *[b'X-%d: ' % i + b'v' * 60000
                                                     for i in range(3)]), 'TEST', (),
     Documented('include/cgihttp/request_parser.hpp, default_max_request_head: "Python has '
                'none"', 'a request head over 128 KiB gets 431',
                error_page(431, 'Request header fields too large'))),
    ('KEEP, unread body, TEST', req(b'KEEP / HTTP/1.1', H, b'Content-Length: 5') + b'hello'
     + req(b'TEST / HTTP/1.1', H), 'KEEP', (),
     Documented('include/cgihttp/base_request_handler.hpp, finish_request(): "Drop the unread '
                'rest of a small body, so the next request starts where it should"',
                'the next request is served (Python reads the body as a request line)',
                lambda testcase, result: testcase.assertEqual(
                    ([r['status'] for r in result['responses']], result['closed']),
                    ([204, 204], True)))),
    ('empty line before request', b'\r\n' + req(b'TEST / HTTP/1.1', H), 'TEST', (),
     Documented('include/cgihttp/base_request_handler.hpp, handle_one_request(): '
                '"RFC 9112 2.2: ignore empty lines before the request line"',
                'the request after the empty line is served (Python closes silently)',
                status_is(204))),
    ('version with latin-1 \\xe9', b'GET / HTTP/1.\xe9\r\n', 'GET', (),
     Documented(REPR_ASCII, 'the byte shows as \\xe9 where Python shows \u00e9',
                error_page(400, "Bad request version ('HTTP/1.\\xe9')"))),
    ('method with latin-1 \\xe9', req(b'G\xe9T / HTTP/1.1', H), 'G\xe9T', (),
     Documented(REPR_ASCII, 'the byte shows as \\xe9 where Python shows \u00e9',
                error_page(501, "Unsupported method ('G\\xe9T')"))),
    ('\\x85 (NEL) between words', req(b'TEST / HTTP/1.1\x85', H), 'TEST', (),
     Documented('include/cgihttp/detail/strings.hpp, is_space(): "Python\'s str.isspace() '
                'restricted to ASCII"', 'no split at the non-ASCII \\x85', not_split_at(0x85))),
    ('\\xa0 (NBSP) between words', req(b'TEST\xa0/ HTTP/1.1', H), 'TEST', (),
     Documented('include/cgihttp/detail/strings.hpp, is_space(): "Python\'s str.isspace() '
                'restricted to ASCII"', 'no split at the non-ASCII \\xa0',
                error_page(400, "Bad HTTP/0.9 request type ('TEST\\xa0/')"))),
]

# send_error() with a 1xx code, as Python's test_send_error / test_head_via_send_error do
# (100, 101, 102): that response alone, Connection: close, no body.
SEND_ERROR_1XX = [
    ('SEND_ERROR %d' % code, req(b'SEND_ERROR /%d HTTP/1.1' % code, H), 'SEND_ERROR', ())
    for code in (100, 101, 102)
] + [
    ('HEAD via send_error %d' % code, req(b'HEAD /%d HTTP/1.1' % code, H), 'HEAD', ())
    for code in (100, 101)
]

COMPARED_HEADERS = ('Content-Type', 'Content-Length', 'Connection')
OPEN_WAIT = 0.4  # how long a connection that stays open is watched


def observe(port, request, method, extra_headers):
    """Sends `request` on a new connection; returns what the server answered."""
    with lib.connect(port, timeout=5) as sock:
        sock.sendall(request)
        data, how = lib.recv_until_close(sock, OPEN_WAIT)
        if how == 'timeout' and not data:  # a slow answer (e.g. a 64 KiB line): wait more
            more, how = lib.recv_until_close(sock, 3)
            data += more
    responses, rest = lib.parse_responses(data, method)
    return {
        'responses': [{
            'status_line': ('%s %d %s' % (r.version, r.status, r.reason)).rstrip(' '),
            'status': r.status,
            'reason': r.reason,
            'headers': {name: r.header(name) for name in COMPARED_HEADERS + tuple(extra_headers)},
            'body': r.body,
        } for r in responses],
        'rest': rest,
        'closed': how != 'timeout',
        'how': how,
    }


def summary(result):
    parts = []
    for r in result['responses']:
        length = r['headers'].get('Content-Length')
        parts.append('%d%s' % (r['status'], '/%sB' % length if length else ''))
    if result['rest']:
        parts.append('0.9:%dB' % len(result['rest']))
    parts.append('close' if result['closed'] else 'open')
    return ' '.join(parts)


class PythonParityTest(unittest.TestCase):
    table = []

    @classmethod
    def setUpClass(cls):
        if sys.version_info[:2] != (3, 11):
            raise unittest.SkipTest('compares with Python 3.11, this is %d.%d'
                                    % sys.version_info[:2])
        cls.python_server = ThreadingHTTPServer((lib.LOCALHOST, 0), PythonBaseHandler)
        cls.python_server.daemon_threads = True
        cls.python_port = cls.python_server.server_address[1]
        cls.thread = threading.Thread(target=cls.python_server.serve_forever, args=(0.05,),
                                      daemon=True)
        cls.thread.start()
        cls.addClassCleanup(cls.stop_python)
        binary = lib.binary('CGIHTTP_TEST_SERVER')
        cls.cgihttp = lib.ServerProcess([binary, 'base'], ready=r'PORT (\d+)\n')
        cls.addClassCleanup(cls.cgihttp.stop)
        cls.cgihttp_port = int(cls.cgihttp.ready_match.group(1))

    @classmethod
    def stop_python(cls):
        cls.python_server.shutdown()
        cls.python_server.server_close()
        cls.thread.join(5)

    @classmethod
    def tearDownClass(cls):
        if cls.table:
            width = max(len(row[0]) for row in cls.table)
            lines = ['', 'Python 3.11 http.server vs cgihttp (status/Content-Length, '
                     'connection state; compared: status line, %s, body bytes)'
                     % ', '.join(COMPARED_HEADERS)]
            lines.append('%-*s  %-22s %-22s %s' % (width, 'request', 'python', 'cgihttp',
                                                   'verdict'))
            for name, py, ours, verdict in cls.table:
                lines.append('%-*s  %-22s %-22s %s' % (width, name, py, ours, verdict))
            sys.stderr.write('\n'.join(lines) + '\n')
            sys.stderr.flush()

    def both(self, request, method, extra_headers):
        python = observe(self.python_port, request, method, extra_headers)
        ours = observe(self.cgihttp_port, request, method, extra_headers)
        return python, ours

    def assertSameAnswer(self, python, ours):
        self.assertEqual(len(ours['responses']), len(python['responses']),
                         '\npython: %r\ncgihttp: %r' % (python, ours))
        for p, o in zip(python['responses'], ours['responses']):
            self.assertEqual(o['status_line'], p['status_line'])
            self.assertEqual(o['headers'], p['headers'])
            self.assertEqual(o['body'], p['body'])
        self.assertEqual(ours['rest'], python['rest'])
        self.assertEqual(ours['closed'], python['closed'])

    def test_same_answers(self):
        for name, request, method, extra, documented in CASES:
            with self.subTest(name):
                python, ours = self.both(request, method, extra)
                if documented is None:
                    verdict = 'same'
                    try:
                        self.assertSameAnswer(python, ours)
                    except AssertionError:
                        verdict = 'DIFFERENT'
                        raise
                    finally:
                        self.table.append((name, summary(python), summary(ours), verdict))
                else:
                    verdict = 'documented: ' + documented.why
                    try:
                        documented.check(self, ours)
                        # A documented difference must still be one: if Python's answer
                        # became the same, the case belongs with the plain ones.
                        with self.assertRaises(AssertionError):
                            self.assertSameAnswer(python, ours)
                    except AssertionError:
                        verdict = 'NOT AS DOCUMENTED'
                        raise
                    finally:
                        self.table.append((name, summary(python), summary(ours), verdict))

    def test_send_error_with_1xx_status(self):
        failures = []
        for name, request, method, extra in SEND_ERROR_1XX:
            python, ours = self.both(request, method, extra)
            try:
                self.assertSameAnswer(python, ours)
                verdict = 'same'
            except AssertionError as e:
                failures.append('%s: %s' % (name, e))
                verdict = 'DIFFERENT'
            self.table.append((name, summary(python), summary(ours), verdict))
        self.assertEqual(failures, [])

    def test_keep_alive_sequence(self):
        # Two requests on one connection: KEEP keeps it open, TEST closes it.
        request = req(b'KEEP / HTTP/1.1', H) + req(b'TEST / HTTP/1.1', H)
        python, ours = self.both(request, 'KEEP', ())
        self.table.append(('KEEP then TEST pipelined', summary(python), summary(ours), 'same'))
        self.assertEqual([r['status'] for r in python['responses']], [204, 204])
        self.assertSameAnswer(python, ours)


if __name__ == '__main__':
    unittest.main()
