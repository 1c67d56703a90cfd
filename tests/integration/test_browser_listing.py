"""The directory listing in a real browser: headless Chromium opens the demo's listing,
follows a link into a subdirectory and back, opens a file whose name has a space and
non-ASCII letters, and downloads a binary file; both must arrive intact. The screenshot of
the listing is written to the build directory (and to docs/ with CGIHTTP_UPDATE_SCREENSHOTS=1).
"""

import hashlib
import os
import shutil
import tempfile
import time
import unittest
import urllib.parse

import cgihttp_testlib as lib
import webdriver


class BrowserListingTest(unittest.TestCase):

    def setUp(self):
        webdriver.require_browser()
        self.root = tempfile.mkdtemp(prefix='cgihttp-browser-')
        self.addCleanup(shutil.rmtree, self.root, True)
        self.downloads = tempfile.mkdtemp(prefix='cgihttp-downloads-')
        self.addCleanup(shutil.rmtree, self.downloads, True)
        self.text = ('Un café à Zürich, ' * 200).encode('utf-8')
        self.binary = os.urandom(3 * 1024 * 1024 + 5)
        self.text_name = 'a file \u00e9t\u00e9.txt'
        self.binary_name = 'donn\u00e9es 1.bin'
        with open(os.path.join(self.root, self.text_name), 'wb') as f:
            f.write(self.text)
        with open(os.path.join(self.root, self.binary_name), 'wb') as f:
            f.write(self.binary)
        os.mkdir(os.path.join(self.root, 'sub dir'))
        with open(os.path.join(self.root, 'sub dir', 'inner <b>.html'), 'wb') as f:
            f.write(b'<p>inner</p>')
        for name in ('README.md', 'style.css', 'Zeta.txt', 'alpha.js'):
            open(os.path.join(self.root, name), 'wb').close()
        proc = lib.start_process(self, [lib.binary('CGIHTTP_DEMO'), '-b', '127.0.0.1', '-d',
                                        self.root, '-p', 'HTTP/1.1', '0'],
                                 ready=r'Serving HTTP on 127\.0\.0\.1 port (\d+) ')
        self.url = 'http://127.0.0.1:%s/' % proc.ready_match.group(1)
        self.browser = webdriver.Browser(download_dir=self.downloads)
        self.addCleanup(self.browser.close)

    def save_screenshot(self, name):
        target_dir = os.path.join(lib.REPO, 'docs') if os.environ.get(
            'CGIHTTP_UPDATE_SCREENSHOTS') else tempfile.gettempdir()
        path = os.path.join(target_dir, name)
        png = self.browser.screenshot(path)
        self.assertTrue(png.startswith(b'\x89PNG\r\n\x1a\n'))
        self.assertGreater(len(png), 5000)
        return path

    def test_listing_navigation_and_downloads(self):
        b = self.browser
        b.get(self.url)
        self.assertEqual(b.title, 'Directory listing for /')
        names = b.execute('return Array.from(document.querySelectorAll("li a"))'
                          '.map(a => a.textContent);')
        self.assertEqual(names, ['a file \u00e9t\u00e9.txt', 'alpha.js', 'donn\u00e9es 1.bin',
                                 'README.md', 'style.css', 'sub dir/', 'Zeta.txt'])
        self.save_screenshot('listing.png')

        b.click_link('sub dir/')
        b.wait_for(lambda: b.url.endswith('/sub%20dir/'), 'the subdirectory')
        self.assertEqual(b.title, 'Directory listing for /sub dir/')
        self.assertEqual(b.execute('return document.querySelector("li a").textContent;'),
                         'inner <b>.html')
        b.back()
        b.wait_for(lambda: b.url == self.url, 'the way back')
        self.assertEqual(b.title, 'Directory listing for /')

        b.click_link(self.text_name)
        expected_url = self.url + urllib.parse.quote(self.text_name)
        b.wait_for(lambda: b.url == expected_url, 'the text file')
        self.assertEqual(b.sha256_of(b.url), hashlib.sha256(self.text).hexdigest())
        b.back()
        b.wait_for(lambda: b.url == self.url, 'the listing again')

        b.click_link(self.binary_name)
        target = os.path.join(self.downloads, self.binary_name)

        def downloaded():
            done = os.path.exists(target) and not any(
                n.endswith('.crdownload') for n in os.listdir(self.downloads))
            return done and os.path.getsize(target) == len(self.binary)
        b.wait_for(downloaded, 'the download of ' + self.binary_name, timeout=30)
        with open(target, 'rb') as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(),
                             hashlib.sha256(self.binary).hexdigest())


if __name__ == '__main__':
    unittest.main()
