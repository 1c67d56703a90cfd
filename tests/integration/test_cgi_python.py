"""CGIRequestHandler over loopback: ports of Python 3.11's CGIHTTPServerTestCase (same names,
same scripts, same assertions, http.client as the client) against the demo server, the
example with its own cgi_directories, and a side-by-side run of the same requests against
`python3 -m http.server --cgi` comparing status, Content-type and body."""

import base64
import http.client
import os
import shutil
import sys
import tempfile
import unittest
import urllib.parse
from collections import OrderedDict
from http import HTTPStatus

import cgihttp_testlib as lib

# Scripts run as nobody when the tests run as root: the interpreter must be reachable by it.
PYTHON = '/usr/bin/python3' if os.access('/usr/bin/python3', os.X_OK) else sys.executable

cgi_file1 = """\
#!%s

print("Content-type: text/html")
print()
print("Hello World")
"""

cgi_file2 = """\
#!%s
import os
import sys
import urllib.parse

print("Content-type: text/html")
print()

content_length = int(os.environ["CONTENT_LENGTH"])
query_string = sys.stdin.buffer.read(content_length)
params = {key.decode("utf-8"): val.decode("utf-8")
            for key, val in urllib.parse.parse_qsl(query_string)}

print("%%s, %%s, %%s" %% (params["spam"], params["eggs"], params["bacon"]))
"""

cgi_file4 = """\
#!%s
import os

print("Content-type: text/html")
print()

print(os.environ["%s"])
"""

cgi_file6 = """\
#!%s
import os

print("X-ambv: was here")
print("Content-type: text/html")
print()
print("<pre>")
for k, v in os.environ.items():
    try:
        k.encode('ascii')
        v.encode('ascii')
    except UnicodeEncodeError:
        continue  # see: BPO-44647
    print(f"{k}={v}")
print("</pre>")
"""


def make_tree(testcase):
    """Python's CGIHTTPServerTestCase directory tree, readable by nobody."""
    parent = tempfile.mkdtemp(prefix='cgihttp-cgi-')
    testcase.addCleanup(shutil.rmtree, parent, True)
    dirs = {
        'cgi_dir': os.path.join(parent, 'cgi-bin'),
        'cgi_child_dir': os.path.join(parent, 'cgi-bin', 'child-dir'),
        'sub_dir_1': os.path.join(parent, 'sub'),
        'sub_dir_2': os.path.join(parent, 'sub', 'dir'),
        'cgi_dir_in_sub_dir': os.path.join(parent, 'sub', 'dir', 'cgi-bin'),
    }
    os.chmod(parent, 0o755)
    for d in dirs.values():
        os.mkdir(d)
        os.chmod(d, 0o755)
    files = {
        os.path.join(parent, 'nocgi.py'): cgi_file1 % PYTHON,
        os.path.join(dirs['cgi_dir'], 'file1.py'): cgi_file1 % PYTHON,
        os.path.join(dirs['cgi_dir'], 'file2.py'): cgi_file2 % PYTHON,
        os.path.join(dirs['cgi_child_dir'], 'file3.py'): cgi_file1 % PYTHON,
        os.path.join(dirs['cgi_dir'], 'file4.py'): cgi_file4 % (PYTHON, 'QUERY_STRING'),
        os.path.join(dirs['cgi_dir_in_sub_dir'], 'file5.py'): cgi_file1 % PYTHON,
        os.path.join(dirs['cgi_dir'], 'file6.py'): cgi_file6 % PYTHON,
    }
    for path, text in files.items():
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        os.chmod(path, 0o777)
    return parent


class CGIHTTPServerTestCase(unittest.TestCase):
    linesep = os.linesep.encode('ascii')

    def setUp(self):
        self.parent_dir = make_tree(self)
        proc = lib.start_process(self, [lib.binary('CGIHTTP_DEMO'), '-b', '127.0.0.1', '-d',
                                         self.parent_dir, '0'],
                                 ready=r'Serving HTTP on 127\.0\.0\.1 port (\d+) ')
        self.server = proc
        self.port = int(proc.ready_match.group(1))

    def request(self, uri, method='GET', body=None, headers={}, port=None):
        self.connection = http.client.HTTPConnection(lib.LOCALHOST, port or self.port,
                                                     timeout=20)
        self.addCleanup(self.connection.close)
        self.connection.request(method, uri, body, headers)
        return self.connection.getresponse()

    def test_headers_and_content(self):
        res = self.request('/cgi-bin/file1.py')
        self.assertEqual(
            (res.read(), res.getheader('Content-type'), res.status),
            (b'Hello World' + self.linesep, 'text/html', HTTPStatus.OK))

    def test_issue19435(self):
        res = self.request('///////////nocgi.py/../cgi-bin/nothere.sh')
        self.assertEqual(res.status, HTTPStatus.NOT_FOUND)

    def test_post(self):
        params = urllib.parse.urlencode({'spam': 1, 'eggs': 'python', 'bacon': 123456})
        headers = {'Content-type': 'application/x-www-form-urlencoded'}
        res = self.request('/cgi-bin/file2.py', 'POST', params, headers)
        self.assertEqual(res.read(), b'1, python, 123456' + self.linesep)

    def test_invaliduri(self):
        res = self.request('/cgi-bin/invalid')
        res.read()
        self.assertEqual(res.status, HTTPStatus.NOT_FOUND)

    def test_authorization(self):
        headers = {b'Authorization': b'Basic ' + base64.b64encode(b'username:pass')}
        res = self.request('/cgi-bin/file1.py', 'GET', headers=headers)
        self.assertEqual(
            (b'Hello World' + self.linesep, 'text/html', HTTPStatus.OK),
            (res.read(), res.getheader('Content-type'), res.status))

    def test_no_leading_slash(self):
        res = self.request('cgi-bin/file1.py')
        self.assertEqual(
            (b'Hello World' + self.linesep, 'text/html', HTTPStatus.OK),
            (res.read(), res.getheader('Content-type'), res.status))

    # Python checks that its own os.environ is unchanged after a request; the server here is
    # another process, so its /proc/PID/environ is checked, with a script seeing the value
    # the gateway sets rather than the server's.
    def test_os_environ_is_not_altered(self):
        signature = 'Test CGI Server'
        env = dict(os.environ, SERVER_SOFTWARE=signature)
        proc = lib.ServerProcess([lib.binary('CGIHTTP_DEMO'), '-b', '127.0.0.1', '-d',
                                  self.parent_dir, '0'],
                                 ready=r'Serving HTTP on 127\.0\.0\.1 port (\d+) ', env=env)
        self.addCleanup(proc.stop)
        port = int(proc.ready_match.group(1))
        res = self.request('/cgi-bin/file1.py', port=port)
        self.assertEqual(
            (b'Hello World' + self.linesep, 'text/html', HTTPStatus.OK),
            (res.read(), res.getheader('Content-type'), res.status))
        with open('/proc/%d/environ' % proc.pid, 'rb') as f:
            self.assertIn(b'SERVER_SOFTWARE=' + signature.encode(), f.read().split(b'\0'))
        with open(os.path.join(self.parent_dir, 'cgi-bin', 'software.py'), 'w') as f:
            f.write(cgi_file4 % (PYTHON, 'SERVER_SOFTWARE'))
        os.chmod(os.path.join(self.parent_dir, 'cgi-bin', 'software.py'), 0o755)
        res = self.request('/cgi-bin/software.py', port=port)
        self.assertTrue(res.read().startswith(b'cgihttp/'))

    def test_urlquote_decoding_in_cgi_check(self):
        res = self.request('/cgi-bin%2ffile1.py')
        self.assertEqual(
            (b'Hello World' + self.linesep, 'text/html', HTTPStatus.OK),
            (res.read(), res.getheader('Content-type'), res.status))

    def test_nested_cgi_path_issue21323(self):
        res = self.request('/cgi-bin/child-dir/file3.py')
        self.assertEqual(
            (b'Hello World' + self.linesep, 'text/html', HTTPStatus.OK),
            (res.read(), res.getheader('Content-type'), res.status))

    def test_query_with_multiple_question_mark(self):
        res = self.request('/cgi-bin/file4.py?a=b?c=d')
        self.assertEqual(
            (b'a=b?c=d' + self.linesep, 'text/html', HTTPStatus.OK),
            (res.read(), res.getheader('Content-type'), res.status))

    def test_query_with_continuous_slashes(self):
        res = self.request('/cgi-bin/file4.py?k=aa%2F%2Fbb&//q//p//=//a//b//')
        self.assertEqual(
            (b'k=aa%2F%2Fbb&//q//p//=//a//b//' + self.linesep, 'text/html', HTTPStatus.OK),
            (res.read(), res.getheader('Content-type'), res.status))

    # Python appends '/sub/dir/cgi-bin' to the class attribute for the test; C++ classes are
    # fixed at compile time, so examples/cgi_directories.cpp declares that list.
    def test_cgi_path_in_sub_directories(self):
        proc = lib.start_process(self, [lib.binary('CGIHTTP_CGI_DIRECTORIES'), self.parent_dir,
                                        '0'], ready=r'on port (\d+)\n')
        res = self.request('/sub/dir/cgi-bin/file5.py', port=int(proc.ready_match.group(1)))
        self.assertEqual(
            (b'Hello World' + self.linesep, 'text/html', HTTPStatus.OK),
            (res.read(), res.getheader('Content-type'), res.status))
        # The demo, with the default list, serves the same path as a file.
        res = self.request('/sub/dir/cgi-bin/file5.py')
        self.assertEqual(res.read(), (cgi_file1 % PYTHON).encode())

    def test_accept(self):
        browser_accept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
        tests = (
            ((('Accept', browser_accept),), browser_accept),
            ((), ''),
            ((('Accept', 'text/html'), ('ACCEPT', 'text/plain')), 'text/html,text/plain'),
        )
        for headers, expected in tests:
            headers = OrderedDict(headers)
            with self.subTest(headers):
                res = self.request('/cgi-bin/file6.py', 'GET', headers=headers)
                self.assertEqual(HTTPStatus.OK, res.status)
                expected = f'HTTP_ACCEPT={expected}'.encode('ascii')
                self.assertIn(expected, res.read())


class ExampleHandlersTestCase(unittest.TestCase):
    """examples/cgi_directories.cpp: both forms of cgi_directories, translate_path overridden,
    an interpreter for non-executable .py scripts."""

    def test_example_subclasses(self):
        parent = make_tree(self)
        os.mkdir(os.path.join(parent, 'assets'))
        with open(os.path.join(parent, 'assets', 'style.css'), 'w') as f:
            f.write('body{}')
        plain = os.path.join(parent, 'cgi-bin', 'plain.py')
        with open(plain, 'w') as f:
            f.write('print("Content-Type: text/plain")\nprint()\nprint("via python3")\n')
        os.chmod(plain, 0o644)
        proc = lib.start_process(self, [lib.binary('CGIHTTP_CGI_DIRECTORIES'), parent, '0'],
                                 ready=r'on port (\d+)\n')
        con = http.client.HTTPConnection(lib.LOCALHOST, int(proc.ready_match.group(1)), timeout=20)
        self.addCleanup(con.close)
        con.request('GET', '/static/style.css')
        res = con.getresponse()
        self.assertEqual((res.status, res.read()), (200, b'body{}'))
        con.request('GET', '/cgi-bin/plain.py')
        res = con.getresponse()
        self.assertEqual((res.status, res.read()), (200, b'via python3\n'))

        os.mkdir(os.path.join(parent, 'scripts'))
        os.chmod(os.path.join(parent, 'scripts'), 0o755)
        shutil.copy(os.path.join(parent, 'cgi-bin', 'file1.py'), os.path.join(parent, 'scripts'))
        proc = lib.start_process(self, [lib.binary('CGIHTTP_CGI_DIRECTORIES'), parent, '0',
                                        '--scripts'], ready=r'on port (\d+)\n')
        con = http.client.HTTPConnection(lib.LOCALHOST, int(proc.ready_match.group(1)), timeout=20)
        self.addCleanup(con.close)
        con.request('GET', '/scripts/file1.py')
        res = con.getresponse()
        self.assertEqual((res.status, res.read()), (200, b'Hello World\n'))
        con.request('GET', '/cgi-bin/file1.py')  # not a CGI directory for this handler
        res = con.getresponse()
        self.assertEqual((res.status, res.read()), (200, (cgi_file1 % PYTHON).encode()))


class SideBySideTestCase(unittest.TestCase):
    """The same requests against `python3 -m http.server --cgi` and the demo."""

    REQUESTS = [
        ('GET', '/cgi-bin/file1.py', None, {}),
        ('GET', 'cgi-bin/file1.py', None, {}),
        ('GET', '/cgi-bin%2ffile1.py', None, {}),
        ('GET', '/cgi-bin/child-dir/file3.py', None, {}),
        ('GET', '/cgi-bin/file4.py?a=b?c=d', None, {}),
        ('GET', '/cgi-bin/file4.py?k=aa%2F%2Fbb&//q//p//=//a//b//', None, {}),
        ('POST', '/cgi-bin/file2.py', 'spam=1&eggs=python&bacon=123456',
         {'Content-type': 'application/x-www-form-urlencoded'}),
        ('GET', '/cgi-bin/invalid', None, {}),
        ('GET', '///////////nocgi.py/../cgi-bin/nothere.sh', None, {}),
        ('GET', '/cgi-bin/child-dir', None, {}),
        ('POST', '/nocgi.py', 'x', {}),
        ('GET', '/nocgi.py', None, {}),
        ('GET', '/cgi-bin/file1.py', None, {'Authorization': 'Basic ' +
                                            base64.b64encode(b'u:p').decode()}),
    ]

    def start_python(self, parent):
        proc = lib.start_process(self, [sys.executable, '-m', 'http.server', '--cgi', '-b',
                                        '127.0.0.1', '-d', parent, '0'],
                                 ready=r'Serving HTTP on 127\.0\.0\.1 port (\d+) ')
        return int(proc.ready_match.group(1))

    def fetch(self, port, method, uri, body, headers):
        con = http.client.HTTPConnection(lib.LOCALHOST, port, timeout=20)
        try:
            con.request(method, uri, body, headers)
            res = con.getresponse()
            return res.status, res.getheader('Content-type'), res.read()
        finally:
            con.close()

    def test_same_answers_as_python(self):
        if sys.version_info[:2] != (3, 11):
            lib.skip_or_fail('compares with Python 3.11, this is %d.%d' % sys.version_info[:2])
        parent = make_tree(self)
        python_port = self.start_python(parent)
        proc = lib.start_process(self, [lib.binary('CGIHTTP_DEMO'), '-b', '127.0.0.1', '-d',
                                        parent, '0'],
                                 ready=r'Serving HTTP on 127\.0\.0\.1 port (\d+) ')
        our_port = int(proc.ready_match.group(1))
        table = []
        for method, uri, body, headers in self.REQUESTS:
            python = self.fetch(python_port, method, uri, body, headers)
            ours = self.fetch(our_port, method, uri, body, headers)
            table.append('%-6s %-48s python %s %-10s ours %s %-10s %s' % (
                method, uri[:48], python[0], python[1], ours[0], ours[1],
                'same' if python == ours else 'DIFFERENT'))
            with self.subTest(method=method, uri=uri):
                self.assertEqual(python, ours)
        print('\n' + '\n'.join(table), file=sys.stderr)


if __name__ == '__main__':
    unittest.main()
