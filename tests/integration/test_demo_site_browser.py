"""The demo site (examples/www) in a real browser: headless Chromium, driven through
chromedriver, uses the sample site served by the demo server the way a visitor would. It
reads the index, submits the forms by GET and by POST, uploads a file of several MB, signs
the guestbook (Post/Redirect/Get), keeps a cookie across visits and walks the directory
listing of files/. The screenshots index.png, form-result.png and listing-files.png are
written to the temporary directory (and to docs/ with CGIHTTP_UPDATE_SCREENSHOTS=1).

The site is served from a temporary copy of examples/www, and the scripts keep their data
(the guestbook) in a temporary directory of the test's own, so that nothing a test does
lands in the repository or in a file other programs share.
"""

import hashlib
import html
import os
import re
import shutil
import struct
import tempfile
import unittest
import urllib.parse
import uuid
import zlib

import cgihttp_testlib as lib
import webdriver

def check_png(testcase, png):
    """Checks that `png` is a complete PNG: signature, every chunk's CRC, IHDR first and
    IEND last, and image data that inflates to exactly the size the header announces."""
    testcase.assertTrue(png.startswith(b'\x89PNG\r\n\x1a\n'), 'not a PNG signature')
    pos, chunks, idat = 8, [], b''
    while pos < len(png):
        length, kind = struct.unpack('>I4s', png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        crc, = struct.unpack('>I', png[pos + 8 + length:pos + 12 + length])
        testcase.assertEqual(zlib.crc32(kind + data), crc, 'bad CRC in chunk %r' % kind)
        chunks.append(kind)
        if kind == b'IHDR':
            width, height, depth, color = struct.unpack('>IIBB', data[:10])
        elif kind == b'IDAT':
            idat += data
        pos += 12 + length
    testcase.assertEqual(chunks[0], b'IHDR')
    testcase.assertEqual(chunks[-1], b'IEND')
    testcase.assertEqual(depth, 8)
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    testcase.assertGreater(width, 300)
    testcase.assertGreater(height, 200)
    pixels = zlib.decompress(idat)
    testcase.assertEqual(len(pixels), height * (1 + width * channels))
    return width, height


class DemoSiteBrowserTest(unittest.TestCase):

    def setUp(self):
        webdriver.require_browser()
        self.www, self.data = lib.copy_demo_site(self)
        self.work = tempfile.mkdtemp(prefix='cgihttp-site-work-')
        self.addCleanup(shutil.rmtree, self.work, True)
        self.server, self.base = lib.start_demo_site(self, self.www, self.data, '-p', 'HTTP/1.1')
        self.browser = webdriver.Browser(download_dir=self.work)
        self.addCleanup(self.browser.close)

    # ---- helpers ----

    def js(self, script, *args):
        return self.browser.execute(script, *args)

    def wait_js(self, script, what, timeout=15):
        """Waits until `script` returns a true value in a fully loaded page."""
        def ready():
            try:
                return self.js('if (document.readyState !== "complete") return null;' + script)
            except webdriver.WebDriverError:  # the page is being replaced
                return None
        return self.browser.wait_for(ready, what, timeout)

    def submit(self, form_selector):
        """Clicks the submit button of a form and waits for the page it leads to."""
        self.js('window.cgihttpOldPage = true;')
        self.browser.click(self.browser.find('css selector', form_selector + ' button'))
        self.wait_js('return window.cgihttpOldPage === undefined;',
                     'the page after submitting ' + form_selector, timeout=30)

    def table(self, selector):
        return self.js('return Array.from(document.querySelectorAll(arguments[0] + " tr"))'
                       '.map(r => Array.from(r.children).map(c => c.textContent));', selector)

    def access_log(self):
        """The server's access log so far, as (method, path, status) tuples, without the
        requests Chromium makes on its own for /favicon.ico."""
        return [(m.group(1), m.group(2), int(m.group(3))) for m in re.finditer(
            r'"([A-Z]+) (\S+) HTTP/1\.[01]" (\d{3}) ', self.server.stderr.text())
            if m.group(2) != '/favicon.ico']

    def wait_log(self, entry, count=1):
        self.server.stderr.wait_for(lambda text: self.access_log().count(entry) >= count, 10)
        return self.access_log()

    def save_screenshot(self, name):
        target_dir = os.path.join(lib.REPO, 'docs') if os.environ.get(
            'CGIHTTP_UPDATE_SCREENSHOTS') else tempfile.gettempdir()
        path = os.path.join(target_dir, name)
        png = self.browser.screenshot(path)
        with open(path, 'rb') as f:
            self.assertEqual(f.read(), png)
        check_png(self, png)
        return path

    # ---- the pages ----

    def test_index_explains_and_links_every_sample(self):
        b = self.browser
        b.get(self.base + '/')
        self.assertEqual(b.title, 'cgihttp demo')
        self.assertEqual(self.js('return document.querySelector("h1").textContent;'),
                         'cgihttp is running')
        text = ' '.join(self.js('return document.body.innerText;').split())
        for words in ('served by cgihttpserver', 'header-only C++ library',
                      "Python's CGI HTTP server", 'directory listings',
                      'programs under /cgi-bin/ run as CGI/1.1 scripts'):
            self.assertIn(words, text)

        links = self.js('return Array.from(document.querySelectorAll("a"))'
                        '.map(a => [a.textContent, a.href]);')
        paths = {}
        for label, href in links:
            url = urllib.parse.urlsplit(href)
            self.assertEqual('%s://%s' % (url.scheme, url.netloc), self.base, href)
            paths[url.path] = (label, href)
        # Every program of cgi-bin/ (its executables) is linked by its name, and so is the
        # listing.
        cgi_bin = os.path.join(self.www, 'cgi-bin')
        scripts = sorted(s for s in os.listdir(cgi_bin)
                         if os.access(os.path.join(cgi_bin, s), os.X_OK))
        self.assertEqual(sorted(p for p in paths if p.startswith('/cgi-bin/')),
                         sorted('/cgi-bin/' + s for s in scripts))
        for script in scripts:
            self.assertEqual(paths['/cgi-bin/' + script][0], script)
        self.assertIn('/files/', paths)
        self.save_screenshot('index.png')

        # Each link works: what the browser fetches is the sample's own page.
        expected = {
            'hello.sh': '<title>Hello from sh</title>',
            'hello-cpp': 'with the query <code>from=index</code>',
            'env.py': '<tr><td>QUERY_STRING</td><td>name=value</td></tr>',
            'form.py': '<title>Forms</title>',
            'upload.py': '<title>Upload</title>',
            'guestbook.py': '<title>Guestbook</title>',
            'cookie.sh': '<title>Cookie</title>',
            'nph-clock.sh': 'Written directly to the client at ',
            'files/': '<title>Directory listing for /files/</title>',
        }
        self.assertEqual(sorted(label for label, _ in paths.values()), sorted(expected),
                         'a sample was added or removed: update this test')
        for path, (label, href) in paths.items():
            status, body = b.execute_async(
                'const done = arguments[arguments.length - 1];'
                'fetch(arguments[0]).then(r => r.text().then(t => done([r.status, t])))'
                '.catch(e => done([0, String(e)]));', href)
            self.assertEqual(status, 200, href)
            self.assertIn(expected[label], body, href)

        # And following one: the compiled C++ sample answers the GET it was sent.
        b.click_link('hello-cpp')
        self.wait_js('return document.title === "Hello from C++";', 'the C++ sample')
        self.assertEqual(b.url, self.base + '/cgi-bin/hello-cpp?from=index')
        self.assertEqual(self.js('return Array.from(document.querySelectorAll("code"))'
                                 '.map(c => c.textContent);'),
                         ['GET', '/cgi-bin/hello-cpp', 'from=index'])
        b.back()
        self.wait_js('return document.title === "cgihttp demo";', 'the index again')

    def test_forms_get_and_post(self):
        b = self.browser
        b.get(self.base + '/cgi-bin/form.py')
        self.assertEqual(b.title, 'Forms')
        self.assertEqual(self.table('#fields'), [])  # nothing received yet

        # GET: type after "Ada" characters HTML must escape, and an already escaped one.
        typed = ' & <b>Lovelace</b> "q" \'s\' &amp; caf\u00e9'
        b.send_keys(b.find('css selector', '#get-form input[name="name"]'), typed)
        self.submit('#get-form')
        url = urllib.parse.urlsplit(b.url)
        self.assertEqual(url.path, '/cgi-bin/form.py')
        self.assertEqual(urllib.parse.parse_qsl(url.query),
                         [('name', 'Ada' + typed), ('lang', 'C++'), ('comment', 'a & b <c>')])
        self.assertEqual(self.js('return document.querySelector("h2").textContent;'),
                         'Received by GET')
        self.assertEqual(self.table('#fields'), [
            ['name', 'Ada' + typed], ['lang', 'C++'], ['comment', 'a & b <c>']])
        self.assertIsNone(self.js('return document.querySelector("#fields b");'))
        # The page source has them escaped (fetched again: a GET can be repeated).
        source = b.execute_async('const done = arguments[arguments.length - 1];'
                                 'fetch(location.href).then(r => r.text()).then(done);')
        self.assertIn('<tr><th>name</th><td>%s</td></tr>' % html.escape('Ada' + typed),
                      source)
        self.assertIn('&lt;b&gt;Lovelace&lt;/b&gt; &quot;q&quot; &#x27;s&#x27; &amp;amp; '
                      'caf\u00e9', source)

        # POST (urlencoded), from the form on the result page: another language, and a
        # comment with the characters urlencoding must carry (+, %, =, &, CR LF aside).
        b.click(b.find('css selector', '#post-form option:nth-child(2)'))
        b.send_keys(b.find('css selector', '#post-form input[name="comment"]'),
                    ' + 100% = "ok" & ;')
        self.submit('#post-form')
        self.assertEqual(b.url, self.base + '/cgi-bin/form.py')  # a POST has no query
        self.assertEqual(self.js('return document.querySelector("h2").textContent;'),
                         'Received by POST')
        self.assertEqual(self.table('#fields'), [
            ['name', 'Ada'], ['lang', 'Python'], ['comment', 'a & b <c> + 100% = "ok" & ;']])
        self.assertIsNone(self.js('return document.querySelector("#fields c");'))
        log = self.wait_log(('POST', '/cgi-bin/form.py', 200))
        self.assertEqual([e for e in log if e[1].startswith('/cgi-bin/form.py')], [
            ('GET', '/cgi-bin/form.py', 200),
            ('GET', '/cgi-bin/form.py?' + url.query, 200),
            ('GET', '/cgi-bin/form.py?' + url.query, 200),  # the fetch() above
            ('POST', '/cgi-bin/form.py', 200)])
        self.save_screenshot('form-result.png')

    def test_upload_of_several_megabytes(self):
        b = self.browser
        name = 'cgihttp-site-test-%s.bin' % uuid.uuid4().hex[:12]
        data = os.urandom(6 * 1024 * 1024 + 4321)
        path = os.path.join(self.work, name)
        with open(path, 'wb') as f:
            f.write(data)

        b.get(self.base + '/cgi-bin/upload.py')
        self.assertEqual(b.title, 'Upload')
        b.send_keys(b.find('css selector', '#file'), path)
        self.submit('#upload')
        self.wait_js('return document.querySelector("#uploaded") !== null;', 'the report')
        self.assertEqual(b.url, self.base + '/cgi-bin/upload.py')
        digest = hashlib.sha256(data).hexdigest()
        self.assertEqual(self.table('#uploaded'), [
            ['name', 'bytes', 'SHA-256'], [name, str(len(data)), digest]])
        with open(os.path.join(self.data, 'uploads', digest), 'rb') as f:
            self.assertEqual(f.read(), data, 'the stored file')
        self.assertEqual(self.wait_log(('POST', '/cgi-bin/upload.py', 200))[-1],
                         ('POST', '/cgi-bin/upload.py', 200))
    def test_guestbook_post_redirect_get(self):
        b = self.browser
        token = 'site-test-%s' % uuid.uuid4().hex[:12]
        message = '%s <i>signed</i> & caf\u00e9' % token
        entries_js = ('return Array.from(document.querySelectorAll("#entries li"))'
                      '.map(li => li.textContent);')

        b.get(self.base + '/cgi-bin/guestbook.py')
        self.assertEqual(b.title, 'Guestbook')
        self.assertNotIn(message, self.js(entries_js))
        b.send_keys(b.find('css selector', '#sign input[name="message"]'), message)
        self.submit('#sign')

        # The browser followed the 303 with a GET: its URL is the script's, the new entry
        # is listed (escaped: the <i> is text), and the server saw POST 303 then GET 200.
        self.assertEqual(b.url, self.base + '/cgi-bin/guestbook.py')
        self.assertEqual(b.title, 'Guestbook')
        entries = self.js(entries_js)
        self.assertEqual(entries.count(message), 1, entries)
        self.assertIsNone(self.js('return document.querySelector("#entries i");'))
        log = self.wait_log(('GET', '/cgi-bin/guestbook.py', 200), 2)
        self.assertEqual(log[-3:], [('GET', '/cgi-bin/guestbook.py', 200),
                                    ('POST', '/cgi-bin/guestbook.py', 303),
                                    ('GET', '/cgi-bin/guestbook.py', 200)])
        nav = self.js('const n = performance.getEntriesByType("navigation")[0];'
                      'return [n.type, n.redirectCount];')
        self.assertEqual(nav, ['navigate', 1])  # one redirect, the 303

        # A reload repeats the GET, not the POST: the entry is not stored a second time.
        self.js('window.cgihttpOldPage = true;')
        b.refresh()
        self.wait_js('return window.cgihttpOldPage === undefined;', 'the reloaded page')
        self.assertEqual(b.url, self.base + '/cgi-bin/guestbook.py')
        self.assertEqual(self.js(entries_js).count(message), 1)
        log = self.wait_log(('GET', '/cgi-bin/guestbook.py', 200), 3)
        self.assertEqual(log[-1], ('GET', '/cgi-bin/guestbook.py', 200))
        self.assertEqual(log.count(('POST', '/cgi-bin/guestbook.py', 303)), 1)
        self.assertEqual(self.js('return performance.getEntriesByType("navigation")[0].type;'),
                         'reload')
        with open(os.path.join(self.data, 'guestbook.txt'), encoding='utf-8') as f:
            self.assertEqual(f.read().splitlines().count(message), 1)

    def test_cookie_round_trip(self):
        b = self.browser
        visits_js = 'return document.querySelector("#visits").textContent;'
        b.get(self.base + '/cgi-bin/cookie.sh')
        self.assertEqual(self.js(visits_js), 'The browser sent visits=0.')  # a new profile
        self.assertEqual(self.js('return document.cookie;'), 'visits=1')
        self.js('window.cgihttpOldPage = true;')
        b.click_link('again')
        self.wait_js('return window.cgihttpOldPage === undefined;', 'the second visit')
        self.assertEqual(self.js(visits_js), 'The browser sent visits=1.')
        b.get(self.base + '/cgi-bin/cookie.sh')
        self.assertEqual(self.js(visits_js), 'The browser sent visits=2.')
        self.assertEqual(self.js('return document.cookie;'), 'visits=3')
        # Path=/: the cookie is sent to the whole site, the env.py sample shows it.
        b.get(self.base + '/cgi-bin/env.py')
        self.assertIn(['HTTP_COOKIE', 'visits=3'], self.table('table'))

    def test_listing_of_files(self):
        b = self.browser
        names_js = ('return Array.from(document.querySelectorAll("li a"))'
                    '.map(a => a.textContent);')
        files = os.path.join(self.www, 'files')
        b.get(self.base + '/files/')
        self.assertEqual(b.title, 'Directory listing for /files/')
        self.assertEqual(self.js(names_js),
                         ['nested/', 'page.html', 'readme.txt', 'un caf\u00e9.txt'])
        self.save_screenshot('listing-files.png')

        b.click_link('nested/')
        self.wait_js('return document.title === "Directory listing for /files/nested/";',
                     'the nested directory')
        self.assertEqual(b.url, self.base + '/files/nested/')
        self.assertEqual(self.js(names_js), ['deep.txt'])
        with open(os.path.join(files, 'nested', 'deep.txt'), 'rb') as f:
            self.assertEqual(b.sha256_of('deep.txt'), hashlib.sha256(f.read()).hexdigest())
        b.back()
        self.wait_js('return document.title === "Directory listing for /files/";',
                     'the way back')

        b.click_link('un caf\u00e9.txt')
        expected_url = self.base + '/files/' + urllib.parse.quote('un caf\u00e9.txt')
        b.wait_for(lambda: b.url == expected_url, 'the file with a non-ASCII name')
        with open(os.path.join(files, 'un caf\u00e9.txt'), 'rb') as f:
            original = f.read()
        self.assertEqual(b.sha256_of(b.url), hashlib.sha256(original).hexdigest())
        self.assertEqual(self.js('return document.contentType;'), 'text/plain')
        b.back()
        self.wait_js('return document.title === "Directory listing for /files/";',
                     'the listing again')

        b.click_link('page.html')
        self.wait_js('return document.readyState === "complete" && '
                     'location.pathname === "/files/page.html";', 'page.html')
        self.assertEqual(self.js('return document.body.textContent.trim();'),
                         'A page inside files/')


if __name__ == '__main__':
    unittest.main()
