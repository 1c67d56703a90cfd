"""Real CGI programs, none of them written for cgihttp, run by the demo server
(examples/cgihttpserver) and driven by real clients (http.client, urllib, curl, git):

- PHP through php-cgi (Debian: php-cgi), run from `#!/usr/bin/php-cgi` scripts: an HTML
  form posted urlencoded, header('Location: ...') and http_response_code(404);
- Perl CGI.pm (Debian: libcgi-pm-perl): a form by GET and POST, a 1 MiB multipart upload;
- programs shipped by Debian packages themselves, linked into a temporary cgi-bin:
  cgit (/usr/lib/cgit/cgit.cgi, C), gitweb (/usr/share/gitweb/gitweb.cgi, Perl) and
  git-http-backend (/usr/lib/git-core/git-http-backend, C, from the git package), over a
  temporary bare repository, configured through the environment variables they read
  (CGIT_CONFIG, GITWEB_CONFIG, GIT_PROJECT_ROOT), which the server passes to its scripts.

Debian packages needed: php-cgi libcgi-pm-perl cgit gitweb git curl (perl comes with them).
A missing one skips its tests, or fails them under CI=true (cgihttp_testlib.skip_or_fail).

Under root the server runs scripts as `nobody`: everything served is made world-readable,
and the repositories the scripts write into (git push) are given to nobody, as an
administrator gives them to www-data.

The server problems these programs revealed (100-continue, HEAD with Content-Length, large
header blocks, the script user's HOME) are fixed; their tests stay as regression tests.
"""

import hashlib
import html
import http.client
import json
import os
import pwd
import random
import re
import shutil
import subprocess
import tempfile
import unittest
import urllib.parse
import urllib.request

import cgihttp_testlib as lib

BANNER = r'Serving HTTP on \S+ port (\d+) \(http://\S+/\) \.\.\.\n'
IS_ROOT = os.geteuid() == 0
# Under root, scripts run as this user (CGIRequestHandler::cgi_user).
SCRIPT_USER = 'nobody'

CGIT = '/usr/lib/cgit/cgit.cgi'                    # Debian package cgit
GITWEB = '/usr/share/gitweb/gitweb.cgi'            # Debian package gitweb
GIT_HTTP_BACKEND = '/usr/lib/git-core/git-http-backend'  # Debian package git

COMMIT_SUBJECT = 'Initial commit for cgihttp'
README = b'hello from a cgihttp test repository\n'
DESCRIPTION = 'cgihttp demo repository'


def require_file(path, package):
    if not os.path.exists(path):
        lib.skip_or_fail('needs %s (Debian package %s)' % (path, package))
    return path


def make_world_readable(top):
    """chmod a+rX over a tree, so that scripts running as nobody can read it."""
    for dirpath, dirnames, filenames in os.walk(top):
        os.chmod(dirpath, os.stat(dirpath).st_mode | 0o755)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                mode = os.stat(path).st_mode
                os.chmod(path, mode | 0o444 | (0o111 if mode & 0o100 else 0))


def give_to_script_user(top):
    """Under root, hands a tree to the user scripts run as (they write into it)."""
    if not IS_ROOT:
        return
    entry = pwd.getpwnam(SCRIPT_USER)
    for dirpath, dirnames, filenames in os.walk(top):
        os.lchown(dirpath, entry.pw_uid, entry.pw_gid)
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), entry.pw_uid, entry.pw_gid)


def check_traversable(path):
    """Under root, scripts run as nobody: every directory above `path` must let them in."""
    if not IS_ROOT:
        return
    parent = os.path.dirname(os.path.abspath(path))
    while True:
        if not os.stat(parent).st_mode & 0o001:
            raise AssertionError('%s is not world-searchable: scripts running as %s cannot '
                                 'reach %s (set TMPDIR elsewhere)'
                                 % (parent, SCRIPT_USER, path))
        if parent == '/':
            return
        parent = os.path.dirname(parent)


def write_file(path, data, mode=0o644):
    with open(path, 'wb') as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)


class RealProgramCase(unittest.TestCase):
    """A fresh temporary www/ per class (filled by prepare()), served by a demo server per
    test with the extra environment of server_environment().

    Header fields are read with res.headers.get() (the first value): repeated fields are
    the concern of PhpTest.test_header_lines_written_one_by_one_are_sent_once alone."""

    protocol = 'HTTP/1.1'

    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix='cgihttp-real-')
        cls.addClassCleanup(shutil.rmtree, cls.base, True)
        os.chmod(cls.base, 0o755)
        check_traversable(cls.base)
        cls.www = os.path.join(cls.base, 'www')
        cls.cgi_bin = os.path.join(cls.www, 'cgi-bin')
        os.makedirs(cls.cgi_bin)
        write_file(os.path.join(cls.www, 'index.html'), '<!DOCTYPE html><p>index page\n')
        cls.prepare()
        make_world_readable(cls.www)

    @classmethod
    def prepare(cls):
        """Fills cls.www; raises SkipTest (or fails under CI) if a program is missing."""

    @classmethod
    def server_environment(cls):
        return {}

    def setUp(self):
        # A server per test (it starts in milliseconds): its log is the test's alone.
        argv = [lib.binary('CGIHTTP_DEMO'), '-b', lib.LOCALHOST, '-d', self.www,
                '-p', self.protocol, '0']
        extra = self.server_environment()
        if extra:  # env(1) execs the server: same process, signals reach it
            argv = [shutil.which('env') or '/usr/bin/env'] + \
                   ['%s=%s' % item for item in sorted(extra.items())] + argv
        self.server = lib.start_process(self, argv, ready=BANNER)
        self.port = int(self.server.ready_match.group(1))

    # ---- clients ----

    def connection(self):
        con = http.client.HTTPConnection(lib.LOCALHOST, self.port, timeout=20)
        self.addCleanup(con.close)
        return con

    def fetch(self, path, method='GET', body=None, headers=None, con=None):
        """One request with http.client (on `con` if given: keep-alive); returns
        (response, body bytes)."""
        con = con or self.connection()
        con.request(method, path, body=body, headers=headers or {})
        res = con.getresponse()
        return res, res.read()

    def url(self, path):
        return 'http://%s:%d%s' % (lib.LOCALHOST, self.port, path)

    def urlopen(self, request):
        """urllib without proxies (loopback only), following redirects."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        return opener.open(request, timeout=20)

    def curl(self, path, *args):
        """Runs curl; returns (status, header fields of the final response, body)."""
        curl = lib.require_tool('curl')
        with tempfile.TemporaryDirectory() as tmp:
            head_file, body_file = os.path.join(tmp, 'head'), os.path.join(tmp, 'body')
            run = subprocess.run([curl, '-sS', '--noproxy', '*', '--max-time', '30',
                                  '-D', head_file, '-o', body_file, '-w', '%{http_code}']
                                 + list(args) + [self.url(path)],
                                 stdin=subprocess.DEVNULL, capture_output=True, timeout=40)
            self.assertEqual(run.returncode, 0, run.stderr.decode(errors='replace'))
            with open(head_file, 'rb') as f:
                heads = f.read().decode('latin-1')
            body = b''
            if os.path.exists(body_file):
                with open(body_file, 'rb') as f:
                    body = f.read()
        # The last head: 100 Continue (and any other interim response) comes first.
        last = [h for h in re.split(r'\r?\n\r?\n', heads) if h.startswith('HTTP/')][-1]
        fields = [tuple(part.strip() for part in line.split(':', 1))
                  for line in re.split(r'\r?\n', last)[1:] if ':' in line]
        return int(run.stdout.decode()), fields, body

    # ---- checks ----

    def script_log(self, script_name):
        """The lines the server logged so far about `script_name` (script stderr, exit
        codes, bad headers): 'CGI script /cgi-bin/x...: ...'."""
        return [line for line in self.server.stderr.text().splitlines()
                if 'CGI script %s' % script_name in line]

    def assertNoScriptErrors(self, script_name):
        """Stops the server (it finishes its requests and their log lines first), then
        checks its log: call it last."""
        self.assertEqual(self.server.stop(), 0)
        self.assertEqual(self.script_log(script_name), [],
                         'the server logged errors about %s' % script_name)

    def assertHtmlPage(self, res, body, status=200):
        self.assertEqual(res.status, status, body[:2000])
        self.assertRegex(res.headers.get('Content-Type', ''), r'^text/html\b')
        self.assertIn(b'</html>', body)


# =========================================================================================
# PHP through php-cgi

PHP_FORM = r'''<?php
// An HTML form (GET) posted urlencoded to itself; the decoded fields are echoed back.
if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
?><!DOCTYPE html>
<html><head><title>PHP form</title></head><body>
<form method="post" action="<?= htmlspecialchars($_SERVER['PHP_SELF']) ?>?lang=de"
      enctype="application/x-www-form-urlencoded">
<input name="name"> <textarea name="msg"></textarea>
<input type="checkbox" name="tags[]" value="a"><input type="checkbox" name="tags[]" value="b">
<input type="hidden" name="empty" value=""><input type="submit">
</form></body></html>
<?php
    exit;
}
$server = [];
foreach (['REQUEST_METHOD', 'CONTENT_TYPE', 'CONTENT_LENGTH', 'SCRIPT_NAME',
          'SCRIPT_FILENAME', 'PHP_SELF', 'PATH_INFO', 'QUERY_STRING', 'REQUEST_URI',
          'GATEWAY_INTERFACE', 'SERVER_PROTOCOL', 'HTTP_HOST', 'REMOTE_ADDR',
          'DOCUMENT_ROOT'] as $n)
    $server[$n] = $_SERVER[$n] ?? null;
$fields = ['post' => $_POST, 'get' => $_GET, 'server' => $server];
?><!DOCTYPE html>
<html><head><title>Thank you</title></head><body>
<p>Hello, <b id="name"><?= htmlspecialchars($_POST['name'] ?? '') ?></b>.
<pre id="fields"><?= htmlspecialchars(json_encode($fields, JSON_UNESCAPED_UNICODE)) ?></pre>
</body></html>
'''

PHP_REDIRECT = r'''<?php
// header('Location: ...'): PHP adds Status: 302 itself unless a code is given.
$to = $_GET['to'] ?? '/target.html';
if (isset($_GET['code']))
    header('Location: ' . $to, true, (int)$_GET['code']);
else
    header('Location: ' . $to);
echo "<p>Moved to <a href=\"", htmlspecialchars($to), "\">here</a>\n";
'''

PHP_NOT_FOUND = r'''<?php
http_response_code(404);
header('Content-Type: text/html; charset=utf-8');
echo "<!DOCTYPE html>\n<html><body><h1>PHP says: no such page</h1></body></html>\n";
'''

PHP_COOKIES = r'''<?php
// Many header lines: php-cgi writes each one with its own write(2).
$n = (int)($_GET['n'] ?? 10);
for ($i = 0; $i < $n; $i++)
    setcookie(sprintf('c%03d', $i), str_repeat('v', 150));
header('Content-Type: text/plain');
echo "cookies: $n\n";
'''

TARGET = '<!DOCTYPE html><html><body><p>redirect target</p></body></html>\n'


class PhpTest(RealProgramCase):
    """php-cgi runs the pages from their `#!/usr/bin/php-cgi` line: the kernel starts
    php-cgi with the script's path, php-cgi (seeing GATEWAY_INTERFACE) takes the script
    from SCRIPT_FILENAME, checks REDIRECT_STATUS (cgi.force_redirect) and skips the #!
    line."""

    @classmethod
    def prepare(cls):
        php = lib.require_tool('php-cgi')
        shebang = '#!%s\n' % php
        for name, source in (('form.php', PHP_FORM), ('redirect.php', PHP_REDIRECT),
                             ('notfound.php', PHP_NOT_FOUND), ('cookies.php', PHP_COOKIES)):
            write_file(os.path.join(cls.cgi_bin, name), shebang + source, 0o755)
        write_file(os.path.join(cls.www, 'target.html'), TARGET)

    FIELDS = [('name', 'Jörg Müller'), ('msg', '1+1=2 & more; <b>50%</b>\r\nline 2'),
              ('tags[]', 'a'), ('tags[]', 'b'), ('empty', '')]
    EXPECTED_POST = {'name': 'Jörg Müller', 'msg': '1+1=2 & more; <b>50%</b>\r\nline 2',
                     'tags': ['a', 'b'], 'empty': ''}

    def posted_fields(self, body):
        match = re.search(rb'<pre id="fields">(.*?)</pre>', body, re.S)
        self.assertIsNotNone(match, body[:2000])
        return json.loads(html.unescape(match.group(1).decode('utf-8')))

    def test_form_page(self):
        res, body = self.fetch('/cgi-bin/form.php')
        self.assertHtmlPage(res, body)
        self.assertNotIn(b'#!', body)  # php-cgi skipped the shebang line
        self.assertIn(b'<form method="post" action="/cgi-bin/form.php?lang=de"', body)
        self.assertIn(b'enctype="application/x-www-form-urlencoded"', body)
        self.assertNoScriptErrors('/cgi-bin/form.php')

    def test_form_posted_urlencoded_http_client(self):
        con = self.connection()
        data = urllib.parse.urlencode(self.FIELDS).encode('ascii')
        res, body = self.fetch('/cgi-bin/form.php?lang=de', 'POST', data,
                               {'Content-Type': 'application/x-www-form-urlencoded'}, con)
        self.assertHtmlPage(res, body)
        self.assertIn('<b id="name">Jörg Müller</b>'.encode(), body)
        fields = self.posted_fields(body)
        self.assertEqual(fields['post'], self.EXPECTED_POST)
        self.assertEqual(fields['get'], {'lang': 'de'})
        server = fields['server']
        self.assertEqual(server['REQUEST_METHOD'], 'POST')
        self.assertEqual(server['CONTENT_TYPE'], 'application/x-www-form-urlencoded')
        self.assertEqual(server['CONTENT_LENGTH'], str(len(data)))
        self.assertEqual(server['SCRIPT_NAME'], '/cgi-bin/form.php')
        self.assertEqual(server['SCRIPT_FILENAME'],
                         os.path.join(os.path.realpath(self.cgi_bin), 'form.php'))
        self.assertEqual(server['PHP_SELF'], '/cgi-bin/form.php')
        self.assertEqual(server['QUERY_STRING'], 'lang=de')
        self.assertEqual(server['REQUEST_URI'], '/cgi-bin/form.php?lang=de')
        self.assertEqual(server['GATEWAY_INTERFACE'], 'CGI/1.1')
        self.assertEqual(server['SERVER_PROTOCOL'], 'HTTP/1.1')
        self.assertEqual(server['HTTP_HOST'], '%s:%d' % (lib.LOCALHOST, self.port))
        self.assertEqual(server['REMOTE_ADDR'], lib.LOCALHOST)
        # The same keep-alive connection serves the next request (the chunked body ended).
        sock = con.sock
        res, body = self.fetch('/cgi-bin/form.php', con=con)
        self.assertHtmlPage(res, body)
        self.assertIs(con.sock, sock, 'the connection was not kept alive')
        self.assertNoScriptErrors('/cgi-bin/form.php')

    def test_form_posted_urlencoded_curl_with_path_info(self):
        args = []
        for name, value in self.FIELDS:
            args += ['--data-urlencode', '%s=%s' % (name, value)]
        status, fields, body = self.curl('/cgi-bin/form.php/extra/p%C3%A4th?lang=de', *args)
        self.assertEqual(status, 200, body[:2000])
        posted = self.posted_fields(body)
        self.assertEqual(posted['post'], self.EXPECTED_POST)
        self.assertEqual(posted['server']['PATH_INFO'], '/extra/päth')
        self.assertEqual(posted['server']['PHP_SELF'], '/cgi-bin/form.php/extra/päth')
        self.assertEqual(posted['server']['SCRIPT_NAME'], '/cgi-bin/form.php')

    def test_head_then_get_on_one_connection(self):
        con = self.connection()
        res, body = self.fetch('/cgi-bin/form.php', 'HEAD', con=con)
        self.assertEqual((res.status, body), (200, b''))
        sock = con.sock
        res, body = self.fetch('/cgi-bin/form.php', con=con)
        self.assertHtmlPage(res, body)
        self.assertIs(con.sock, sock)

    def test_location_header_gives_302(self):
        res, body = self.fetch('/cgi-bin/redirect.php')
        self.assertEqual((res.status, res.reason), (302, 'Found'))
        self.assertEqual(res.headers.get('Location'), '/target.html')
        self.assertIn(b'Moved to', body)
        status, fields, body = self.curl('/cgi-bin/redirect.php?to=http://example.invalid/x')
        self.assertEqual(status, 302)
        self.assertIn(('Location', 'http://example.invalid/x'), fields)

    def test_location_header_with_code_301(self):
        res, body = self.fetch('/cgi-bin/redirect.php?code=301&to=/target.html')
        self.assertEqual((res.status, res.reason), (301, 'Moved Permanently'))
        self.assertEqual(res.headers.get('Location'), '/target.html')

    def test_post_redirect_get_followed_by_urllib(self):
        request = urllib.request.Request(self.url('/cgi-bin/redirect.php?code=303'),
                                         data=b'name=x', method='POST')
        with self.urlopen(request) as res:
            self.assertEqual(res.status, 200)
            self.assertEqual(res.geturl(), self.url('/target.html'))
            self.assertEqual(res.read(), TARGET.encode())

    def test_location_with_status_200_is_a_local_redirect(self):
        # header('Location: /path', true, 200) makes php-cgi write Location without a
        # Status: the server serves /target.html itself (RFC 3875 6.2.2, as Apache does).
        res, body = self.fetch('/cgi-bin/redirect.php?code=200&to=/target.html')
        self.assertEqual(res.status, 200)
        self.assertEqual(body, TARGET.encode())
        self.assertIsNone(res.headers.get('Location'))

    def test_http_response_code_404(self):
        res, body = self.fetch('/cgi-bin/notfound.php')
        self.assertEqual((res.status, res.reason), (404, 'Not Found'))
        self.assertEqual(res.headers.get('Content-Type'), 'text/html; charset=utf-8')
        self.assertIn(b'PHP says: no such page', body)  # PHP's page, not the server's
        status, fields, body = self.curl('/cgi-bin/notfound.php')
        self.assertEqual(status, 404)
        self.assertIn(b'PHP says: no such page', body)

    def test_expect_100_continue_answered_at_once(self):
        curl = lib.require_tool('curl')
        run = subprocess.run([curl, '-sS', '-v', '--noproxy', '*', '--max-time', '20',
                              '--expect100-timeout', '1.5', '-H', 'Expect: 100-continue',
                              '--data-urlencode', 'name=Jörg', '--data-urlencode', 'msg=x',
                              self.url('/cgi-bin/form.php')],
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn('<b id="name">Jörg</b>'.encode(), run.stdout)  # works, but late:
        self.assertIn(b'< HTTP/1.1 100 Continue', run.stderr)
        self.assertNotIn(b'Done waiting for 100-continue', run.stderr)

    # php-cgi writes each header line with separate write(2) calls ("Status: 302 Found",
    # "\r\n", "Location: /target.html", "\r\n", ...): the server reads the header block
    # in pieces. (Found here: each field was repeated 2-4 times until on_output() erased
    # the parsed lines before feeding the parser again.)
    def test_header_lines_written_one_by_one_are_sent_once(self):
        # A request reads the block in one piece when php-cgi wrote all of it before the
        # server's first read (1/3 of them, in runs of up to ~10): 30 tries.
        for _ in range(30):
            res, body = self.fetch('/cgi-bin/redirect.php')
            self.assertEqual(res.status, 302)
            self.assertEqual(res.headers.get_all('Location'), ['/target.html'])
            self.assertEqual(len(res.headers.get_all('Content-Type')), 1)

    def test_large_header_block_written_line_by_line(self):
        # The refusal needs a read that ends inside a line after many whole ones: about 1
        # request in 4 with php-cgi (49 of 200, in runs): 40 tries.
        for _ in range(40):
            # A raw socket: http.client refuses responses with over 100 header fields.
            data, how = lib.exchange(self.port, b'GET /cgi-bin/cookies.php?n=300 HTTP/1.0\r\n'
                                                b'Host: x\r\n\r\n', timeout=20)
            responses, rest = lib.parse_responses(data)
            self.assertEqual(len(responses), 1, data[:2000])
            res = responses[0]
            self.assertEqual(res.status, 200, self.script_log('/cgi-bin/cookies.php'))
            cookies = [v for n, v in res.fields if n.lower() == 'set-cookie']
            self.assertEqual(len(cookies), 300)
            self.assertEqual(len(set(cookies)), 300)
            self.assertEqual(res.body, b'cookies: 300\n')


# =========================================================================================
# Perl CGI.pm

PERL_FORM = r'''#!/usr/bin/perl
# A form handled with CGI.pm, by GET and POST, with a file upload; reports in JSON.
use strict;
use warnings;
use CGI ();
use Digest::SHA ();
use JSON::PP ();

my $q = CGI->new;
if ($q->request_method eq 'GET' && !$q->param) {
    print $q->header(-type => 'text/html', -charset => 'utf-8'),
          $q->start_html('Upload'),
          $q->start_form(-method => 'POST', -action => $q->url,
                         -enctype => 'multipart/form-data'),
          $q->textfield('title'), $q->filefield('file'), $q->submit,
          $q->end_form, $q->end_html;
    exit 0;
}
my (%params, %uploads);
for my $name ($q->param) {
    my $fh = $q->upload($name);
    if (defined $fh) {
        binmode $fh;
        my $sha = Digest::SHA->new(256);
        my $size = 0;
        while (my $n = read($fh, my $buffer, 65536)) {
            $size += $n;
            $sha->add($buffer);
        }
        my $filename = $q->param($name);
        $uploads{$name} = {filename => "$filename", size => $size,
                           sha256 => $sha->hexdigest,
                           type => $q->uploadInfo($filename)->{'Content-Type'}};
    } else {
        $params{$name} = [$q->multi_param($name)];
    }
}
print $q->header(-type => 'application/json', -charset => 'utf-8');
# Parameters are bytes (UTF-8 as sent): print them as they are.
print JSON::PP->new->canonical->encode({
    method => $q->request_method, params => \%params, uploads => \%uploads,
    url => $q->url(-path_info => 1), path_info => $q->path_info,
    url_params => {map { $_ => [$q->url_param($_)] } $q->url_param},
    content_length => $ENV{CONTENT_LENGTH}, error => ($q->cgi_error // ''),
});
'''


class PerlCgiPmTest(RealProgramCase):
    """CGI.pm parses the query, urlencoded and multipart bodies itself from the CGI
    variables (REQUEST_METHOD, QUERY_STRING, CONTENT_TYPE, CONTENT_LENGTH, stdin). The
    server speaks HTTP/1.0 here, the demo's default."""

    protocol = 'HTTP/1.0'
    UPLOAD = random.Random(3875).randbytes(1 << 20)  # 1 MiB, not compressible

    @classmethod
    def prepare(cls):
        perl = lib.require_tool('perl')
        check = lib.run_program([perl, '-MCGI', '-MJSON::PP', '-MDigest::SHA', '-e', '1'])
        if check.returncode != 0:
            lib.skip_or_fail('needs Perl CGI.pm (Debian package libcgi-pm-perl): '
                             + check.stderr.strip())
        write_file(os.path.join(cls.cgi_bin, 'form.pl'),
                   PERL_FORM.replace('/usr/bin/perl', perl, 1), 0o755)

    def report(self, res, body):
        self.assertEqual(res.status, 200, body[:2000])
        self.assertEqual(res.headers.get('Content-Type'), 'application/json; charset=utf-8')
        report = json.loads(body.decode('utf-8'))
        self.assertEqual(report['error'], '')
        return report

    def test_form_page(self):
        res, body = self.fetch('/cgi-bin/form.pl')
        self.assertHtmlPage(res, body)
        self.assertRegex(body, rb'<form method="post" action="http://127\.0\.0\.1:%d'
                               rb'/cgi-bin/form\.pl" enctype="multipart/form-data"'
                         % self.port)
        self.assertNoScriptErrors('/cgi-bin/form.pl')

    def test_get_with_query_and_path_info(self):
        res, body = self.fetch('/cgi-bin/form.pl/some/where?a=1&a=2&b=h%C3%A9+x&c=%26%3D')
        report = self.report(res, body)
        self.assertEqual(report['method'], 'GET')
        self.assertEqual(report['params'], {'a': ['1', '2'], 'b': ['hé x'], 'c': ['&=']})
        self.assertEqual(report['path_info'], '/some/where')
        self.assertEqual(report['url'],
                         'http://127.0.0.1:%d/cgi-bin/form.pl/some/where' % self.port)
        self.assertNoScriptErrors('/cgi-bin/form.pl')

    def test_post_urlencoded(self):
        data = urllib.parse.urlencode([('title', 'Ünïcode & co'), ('n', '1'), ('n', '2')])
        request = urllib.request.Request(self.url('/cgi-bin/form.pl?q=query'),
                                         data=data.encode('ascii'))
        with self.urlopen(request) as res:
            report = self.report(res, res.read())
        self.assertEqual(report['method'], 'POST')
        self.assertEqual(report['params'], {'title': ['Ünïcode & co'], 'n': ['1', '2']})
        self.assertEqual(report['url_params'], {'q': ['query']})  # from QUERY_STRING
        self.assertEqual(report['content_length'], str(len(data)))

    def check_upload(self, report, filename):
        self.assertEqual(report['method'], 'POST')
        self.assertEqual(report['params'], {'title': ['My upload']})
        upload = report['uploads']['file']
        self.assertEqual(upload['filename'], filename)
        self.assertEqual(upload['type'], 'application/octet-stream')
        self.assertEqual(upload['size'], len(self.UPLOAD))
        self.assertEqual(upload['sha256'], hashlib.sha256(self.UPLOAD).hexdigest())

    def test_multipart_upload_curl(self):
        path = os.path.join(self.base, 'upload.bin')
        write_file(path, self.UPLOAD)
        # Over 1 MiB, curl sends Expect: 100-continue first.
        status, fields, body = self.curl('/cgi-bin/form.pl', '-F', 'title=My upload',
                                         '-F', 'file=@%s;type=application/octet-stream'
                                         % path)
        self.assertEqual(status, 200, body[:2000])
        self.check_upload(json.loads(body.decode('utf-8')), 'upload.bin')
        self.assertNoScriptErrors('/cgi-bin/form.pl')

    def test_multipart_upload_chunked_http_client(self):
        # A chunked request body: the server spools it and sets CONTENT_LENGTH, which
        # CGI.pm needs to read a POST body.
        boundary = 'cgihttp-%016x' % random.getrandbits(64)
        parts = [
            b'--%s\r\nContent-Disposition: form-data; name="title"\r\n\r\nMy upload\r\n'
            % boundary.encode(),
            b'--%s\r\nContent-Disposition: form-data; name="file"; filename="data.bin"\r\n'
            b'Content-Type: application/octet-stream\r\n\r\n' % boundary.encode(),
            self.UPLOAD,
            b'\r\n--%s--\r\n' % boundary.encode(),
        ]
        con = self.connection()
        con.putrequest('POST', '/cgi-bin/form.pl')
        con.putheader('Content-Type', 'multipart/form-data; boundary=' + boundary)
        con.putheader('Transfer-Encoding', 'chunked')
        con.endheaders()
        for part in parts:
            for start in range(0, len(part), 100000):
                chunk = part[start:start + 100000]
                con.send(b'%x\r\n%s\r\n' % (len(chunk), chunk))
        con.send(b'0\r\n\r\n')
        res = con.getresponse()
        report = self.report(res, res.read())
        self.check_upload(report, 'data.bin')
        self.assertEqual(report['content_length'], str(sum(len(p) for p in parts)))


# =========================================================================================
# Programs shipped by Debian packages: cgit, gitweb, git-http-backend


def git_env(home):
    """The environment of the test's own git commands: no user or system configuration,
    no proxy, no prompts, fixed identities and dates."""
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith('_proxy') and not k.startswith('GIT_')}
    env.update(HOME=home, GIT_CONFIG_NOSYSTEM='1', GIT_TERMINAL_PROMPT='0', NO_PROXY='*',
               GIT_AUTHOR_NAME='Cgihttp Tester', GIT_AUTHOR_EMAIL='tester@example.com',
               GIT_COMMITTER_NAME='Cgihttp Tester', GIT_COMMITTER_EMAIL='tester@example.com',
               GIT_AUTHOR_DATE='2024-05-06T07:08:09Z',
               GIT_COMMITTER_DATE='2024-05-06T07:08:09Z')
    return env


class GitProgramCase(RealProgramCase):
    """A bare repository git/demo-repo.git (one commit: README) next to www/."""

    @classmethod
    def prepare(cls):
        cls.git = lib.require_tool('git')
        cls.home = os.path.join(cls.base, 'home')  # the test's git commands' HOME
        os.mkdir(cls.home)
        cls.git_root = os.path.join(cls.base, 'git')
        os.mkdir(cls.git_root)
        work = os.path.join(cls.base, 'work')
        cls.run_git('init', '-q', '-b', 'main', work)
        write_file(os.path.join(work, 'README'), README)
        cls.run_git('-C', work, 'add', 'README')
        cls.run_git('-C', work, 'commit', '-q', '-m', COMMIT_SUBJECT)
        cls.commit = cls.run_git('-C', work, 'rev-parse', 'HEAD').strip()
        cls.work = work
        cls.repo = cls.make_bare('demo-repo.git')
        cls.prepare_program()
        make_world_readable(cls.git_root)

    @classmethod
    def make_bare(cls, name):
        path = os.path.join(cls.git_root, name)
        cls.run_git('clone', '-q', '--bare', cls.work, path)
        write_file(os.path.join(path, 'description'), DESCRIPTION + '\n')
        return path

    @classmethod
    def prepare_program(cls):
        pass

    @classmethod
    def run_git(cls, *args, check=True, env=None):
        run = subprocess.run([cls.git] + list(args), stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=60,
                             env=env or git_env(cls.home))
        if check and run.returncode != 0:
            raise AssertionError('git %s: exit %d\n%s' % (' '.join(args), run.returncode,
                                                        run.stderr))
        return run.stdout if check else run


class CgitTest(GitProgramCase):
    """cgit (C, Debian package cgit) linked as cgi-bin/cgit.cgi, configured by a cgitrc
    named in CGIT_CONFIG. Without virtual-root, cgit builds its links from SCRIPT_NAME and
    reads the page from PATH_INFO (repository/page/path) and the query (id, q, ...)."""

    @classmethod
    def prepare_program(cls):
        require_file(CGIT, 'cgit')
        os.symlink(CGIT, os.path.join(cls.cgi_bin, 'cgit.cgi'))
        cls.cgitrc = os.path.join(cls.base, 'cgitrc')
        write_file(cls.cgitrc, 'cache-size=0\nroot-title=cgihttp cgit test\n'
                               'repo.url=demo-repo\nrepo.path=%s\nrepo.desc=%s\n'
                   % (cls.repo, DESCRIPTION))

    @classmethod
    def server_environment(cls):
        return {'CGIT_CONFIG': cls.cgitrc}

    def test_index_page(self):
        res, body = self.fetch('/cgi-bin/cgit.cgi/')
        self.assertHtmlPage(res, body)
        self.assertIn(b"<meta name='generator' content='cgit v", body)
        self.assertIn(b'<title>cgihttp cgit test</title>', body)
        self.assertIn(b"<a href='/cgi-bin/cgit.cgi/demo-repo/'>demo-repo</a>", body)
        self.assertIn(DESCRIPTION.encode(), body)
        self.assertNoScriptErrors('/cgi-bin/cgit.cgi')

    def test_repository_pages_by_path_info_on_one_connection(self):
        con = self.connection()
        res, body = self.fetch('/cgi-bin/cgit.cgi/demo-repo/', con=con)
        self.assertHtmlPage(res, body)
        self.assertIn(('<title>demo-repo - %s</title>' % DESCRIPTION).encode(), body)
        self.assertIn(COMMIT_SUBJECT.encode(), body)
        sock = con.sock
        res, body = self.fetch('/cgi-bin/cgit.cgi/demo-repo/log/', con=con)
        self.assertHtmlPage(res, body)
        self.assertIn(b"<a class='active' href='/cgi-bin/cgit.cgi/demo-repo/log/'>log</a>",
                      body)
        self.assertIn(COMMIT_SUBJECT.encode(), body)
        res, body = self.fetch('/cgi-bin/cgit.cgi/demo-repo/tree/README', con=con)
        self.assertHtmlPage(res, body)
        self.assertIn(b'hello from a cgihttp test repository', body)
        res, body = self.fetch('/cgi-bin/cgit.cgi/demo-repo/plain/README', con=con)
        self.assertEqual(res.status, 200)
        self.assertEqual(res.headers.get('Content-Type'), 'text/plain; charset=UTF-8')
        self.assertEqual(body, README)
        self.assertIs(con.sock, sock, 'the connection was not kept alive')

    def test_commit_page_by_query_string(self):
        res, body = self.fetch('/cgi-bin/cgit.cgi/demo-repo/commit/?id=' + self.commit)
        self.assertHtmlPage(res, body)
        self.assertIn(('<title>%s - demo-repo - %s</title>'
                       % (COMMIT_SUBJECT, DESCRIPTION)).encode(), body)
        self.assertIn(self.commit.encode(), body)
        self.assertIn(b'tester@example.com', body)

    def test_search_by_query_string(self):
        status, fields, body = self.curl('/cgi-bin/cgit.cgi/?q=demo')
        self.assertEqual(status, 200)
        self.assertIn(b"href='/cgi-bin/cgit.cgi/demo-repo/'", body)
        status, fields, body = self.curl('/cgi-bin/cgit.cgi/?q=no-such-thing')
        self.assertEqual(status, 404)  # cgit's answer to a search without results
        self.assertIn(b'No repositories found', body)
        self.assertNotIn(b"href='/cgi-bin/cgit.cgi/demo-repo/'", body)

    def test_unknown_repository_is_404(self):
        res, body = self.fetch('/cgi-bin/cgit.cgi/no-such-repo/')
        self.assertEqual(res.status, 404)
        self.assertIn(b'No repositories found', body)

    def test_head(self):
        res, body = self.fetch('/cgi-bin/cgit.cgi/demo-repo/plain/README', 'HEAD')
        self.assertEqual((res.status, body), (200, b''))
        self.assertEqual(res.headers.get('Content-Length'), str(len(README)))
        self.assertEqual(res.headers.get('Content-Type'), 'text/plain; charset=UTF-8')

    def test_head_keeps_the_connection_alive(self):
        con = self.connection()
        res, body = self.fetch('/cgi-bin/cgit.cgi/demo-repo/plain/README', 'HEAD', con=con)
        self.assertEqual((res.status, body), (200, b''))
        self.assertFalse(res.will_close)
        res, body = self.fetch('/cgi-bin/cgit.cgi/demo-repo/plain/README', con=con)
        self.assertEqual(body, README)
        self.assertNoScriptErrors('/cgi-bin/cgit.cgi')

    def test_dumb_http_clone(self):
        # cgit serves info/refs, HEAD and objects/ itself (enable-http-clone, default on).
        target = tempfile.mkdtemp(dir=self.base)
        self.run_git('clone', '-q', self.url('/cgi-bin/cgit.cgi/demo-repo'), target + '/c')
        self.assertEqual(self.run_git('-C', target + '/c', 'rev-parse', 'HEAD').strip(),
                         self.commit)
        with open(target + '/c/README', 'rb') as f:
            self.assertEqual(f.read(), README)


class GitwebTest(GitProgramCase):
    """gitweb (Perl, Debian package gitweb) linked as cgi-bin/gitweb.cgi, configured by a
    file named in GITWEB_CONFIG ($projectroot: the temporary git/ directory), with
    path_info links on. It runs git as a child process for each page."""

    @classmethod
    def prepare_program(cls):
        require_file(GITWEB, 'gitweb')
        os.symlink(GITWEB, os.path.join(cls.cgi_bin, 'gitweb.cgi'))
        cls.config = os.path.join(cls.base, 'gitweb.conf')
        write_file(cls.config, '$projectroot = "%s";\n$git_temp = "/tmp";\n'
                               '$site_name = "cgihttp gitweb test";\n'
                               '$feature{"pathinfo"}{"default"} = [1];\n' % cls.git_root)

    @classmethod
    def server_environment(cls):
        return {'GITWEB_CONFIG': cls.config}

    def test_project_list(self):
        res, body = self.fetch('/cgi-bin/gitweb.cgi')
        self.assertHtmlPage(res, body)
        self.assertIn(b'<meta name="generator" content="gitweb/', body)
        self.assertIn(b'<title>cgihttp gitweb test</title>', body)
        self.assertIn(b'<a class="list" href="/cgi-bin/gitweb.cgi/demo-repo.git">'
                      b'demo-repo.git</a>', body)
        self.assertIn(DESCRIPTION.encode(), body)
        self.assertNoScriptErrors('/cgi-bin/gitweb.cgi')

    def test_summary_by_query_string(self):
        res, body = self.fetch('/cgi-bin/gitweb.cgi?p=demo-repo.git;a=summary')
        self.assertHtmlPage(res, body)
        self.assertIn(b'<title>cgihttp gitweb test - demo-repo.git/summary</title>', body)
        self.assertIn(COMMIT_SUBJECT.encode(), body)
        self.assertNoScriptErrors('/cgi-bin/gitweb.cgi')

    def test_shortlog_by_path_info(self):
        status, fields, body = self.curl('/cgi-bin/gitweb.cgi/demo-repo.git/shortlog')
        self.assertEqual(status, 200, body[:2000])
        self.assertIn(b'<title>cgihttp gitweb test - demo-repo.git/shortlog</title>', body)
        self.assertIn(COMMIT_SUBJECT.encode(), body)
        # gitweb's <base> for path_info pages comes from HTTP_HOST and SCRIPT_NAME.
        self.assertIn(b'<base href="http://127.0.0.1:%d/cgi-bin/gitweb.cgi" />' % self.port,
                      body)

    def test_blob_plain_by_path_info(self):
        res, body = self.fetch('/cgi-bin/gitweb.cgi/demo-repo.git/blob_plain/main:/README')
        self.assertEqual(res.status, 200)
        self.assertRegex(res.headers.get('Content-Type'), r'^text/plain\b')
        self.assertEqual(body, README)

    def test_commit_page(self):
        res, body = self.fetch('/cgi-bin/gitweb.cgi?p=demo-repo.git;a=commit;h='
                               + self.commit)
        self.assertHtmlPage(res, body)
        self.assertIn(self.commit.encode(), body)
        self.assertIn(b'Cgihttp Tester', body)

    def test_unknown_project_is_404(self):
        res, body = self.fetch('/cgi-bin/gitweb.cgi?p=no-such.git;a=summary')
        self.assertEqual(res.status, 404)
        self.assertIn(b'404 - No such project', body)


class GitHttpBackendTest(GitProgramCase):
    """git-http-backend (C, Debian package git) linked as cgi-bin/git, serving git/ by
    GIT_PROJECT_ROOT with GIT_HTTP_EXPORT_ALL: smart HTTP clone and push by the git client.
    Pushes are POST bodies, chunked when larger than http.postBuffer (1 MiB)."""

    @classmethod
    def prepare_program(cls):
        require_file(GIT_HTTP_BACKEND, 'git')
        os.symlink(GIT_HTTP_BACKEND, os.path.join(cls.cgi_bin, 'git'))
        cls.open_repo = cls.make_bare('open.git')
        cls.run_git('--git-dir', cls.open_repo, 'config', 'http.receivepack', 'true')
        cls.locked_repo = cls.make_bare('locked.git')  # receive-pack: authenticated only
        # Under root, the server's own HOME is root's, which nobody cannot enter (0700).
        cls.server_home = os.path.join(cls.base, 'server-home')
        os.mkdir(cls.server_home, 0o700)
        give_to_script_user(cls.git_root)

    @classmethod
    def server_environment(cls):
        return {'GIT_PROJECT_ROOT': cls.git_root, 'GIT_HTTP_EXPORT_ALL': '1',
                'HOME': cls.server_home}

    def clone(self, repo):
        target = os.path.join(tempfile.mkdtemp(dir=self.base), 'clone')
        run = self.run_git('clone', self.url('/cgi-bin/git/' + repo), target, check=False)
        self.assertEqual(run.returncode, 0, run.stderr)
        return target, run

    def commit_file(self, clone, name, data, message):
        write_file(os.path.join(clone, name), data)
        self.run_git('-C', clone, 'add', name)
        self.run_git('-C', clone, 'commit', '-q', '-m', message)
        return self.run_git('-C', clone, 'rev-parse', 'HEAD').strip()

    def test_smart_http_clone(self):
        target, run = self.clone('demo-repo.git')
        self.assertEqual(self.run_git('-C', target, 'rev-parse', 'HEAD').strip(),
                         self.commit)
        with open(os.path.join(target, 'README'), 'rb') as f:
            self.assertEqual(f.read(), README)
        res, body = self.fetch('/cgi-bin/git/demo-repo.git/info/refs?service=git-upload-pack')
        self.assertEqual(res.status, 200)
        self.assertEqual(res.headers.get('Content-Type'),
                         'application/x-git-upload-pack-advertisement')
        self.assertIn(self.commit.encode() + b' refs/heads/main', body)

    def test_push_chunked_then_clone_back(self):
        clone, _ = self.clone('open.git')
        data = random.Random(1).randbytes(3 << 20)
        pushed = self.commit_file(clone, 'big.bin', data, 'A 3 MiB file')
        trace = os.path.join(self.base, 'push-trace')
        env = git_env(self.home)
        env.update(GIT_TRACE_CURL=trace, GIT_TRACE_CURL_NO_DATA='1')
        run = self.run_git('-C', clone, 'push', 'origin', 'main', check=False, env=env)
        self.assertEqual(run.returncode, 0, run.stderr)
        with open(trace, errors='replace') as f:
            self.assertIn('Send header: Transfer-Encoding: chunked', f.read(),
                          'git did not send a chunked body: the test lost its point')
        again, _ = self.clone('open.git')
        self.assertEqual(self.run_git('-C', again, 'rev-parse', 'HEAD').strip(), pushed)
        with open(os.path.join(again, 'big.bin'), 'rb') as f:
            self.assertEqual(hashlib.sha256(f.read()).digest(), hashlib.sha256(data).digest())

    def test_push_refused_without_authentication(self):
        clone, _ = self.clone('locked.git')
        self.commit_file(clone, 'x.txt', 'x\n', 'anonymous change')
        run = self.run_git('-C', clone, 'push', 'origin', 'main', check=False)
        self.assertNotEqual(run.returncode, 0, 'an anonymous push was accepted')
        self.assertIn('403', run.stderr)

    # Python's CGIHTTPRequestHandler, and so cgihttp by default, takes Basic credentials on
    # trust: REMOTE_USER is what the client claims, and git-http-backend accepts the push.
    # The README's security notes say so; CGIRequestHandler::check_basic_credentials() is
    # where a server checks them (tested in tests/unit/cgi_test.cpp).
    def test_basic_credentials_are_taken_on_trust_as_in_python(self):
        clone, _ = self.clone('locked.git')
        self.commit_file(clone, 'forged.txt', 'forged\n', 'forged push')
        run = self.run_git('-C', clone, '-c',
                           'http.extraHeader=Authorization: Basic YW55b25lOmZvcmdlZA==',
                           'push', 'origin', 'main', check=False)
        self.assertEqual(run.returncode, 0, run.stderr)

    # Scripts running as nobody get nobody's HOME, USER and LOGNAME, as su sets them: with
    # root's HOME, git-http-backend warned on every clone ("unable to access").
    def test_clone_without_warnings_from_the_server_home(self):
        target, run = self.clone('demo-repo.git')
        self.assertNotIn('Permission denied', run.stderr)
        self.assertNotIn('warning', run.stderr)
        self.assertNoScriptErrors('/cgi-bin/git')


if __name__ == '__main__':
    unittest.main()
