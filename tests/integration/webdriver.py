"""A minimal W3C WebDriver client on the Python standard library, driving Debian's headless
Chromium through chromedriver, for the browser tests. Loopback only.

    with Browser(download_dir) as browser:
        browser.get(url); browser.click_link('sub/'); browser.screenshot(path)
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMEDRIVER = shutil.which('chromedriver') or '/usr/bin/chromedriver'
ELEMENT = 'element-6066-11e4-a52e-4f735466cecf'


def require_browser():
    """Skips the calling test when Chromium or chromedriver is missing."""
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        import cgihttp_testlib
        cgihttp_testlib.skip_or_fail('needs Debian packages chromium and chromium-driver')


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class WebDriverError(Exception):
    pass


class Browser:
    """One headless Chromium session. Closing it ends the browser and chromedriver."""

    def __init__(self, download_dir=None, timeout=30):
        require_browser()
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix='cgihttp-chromium-')
        self.port = _free_port()
        self.driver = subprocess.Popen([CHROMEDRIVER, '--port=%d' % self.port],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = 'http://127.0.0.1:%d' % self.port
        self.session = None
        try:
            self._wait_ready()
            options = {
                'binary': CHROMIUM,
                # The flags the machine's notes require: no sandbox as root, and no
                # background networking (this machine's network is closed).
                'args': ['--headless', '--no-sandbox', '--disable-gpu',
                         '--disable-background-networking', '--disable-component-update',
                         '--no-first-run', '--disable-sync', '--disable-quic',
                         '--window-size=1000,700', '--user-data-dir=' + self.profile],
            }
            if download_dir:
                options['prefs'] = {'download.default_directory': download_dir,
                                    'download.prompt_for_download': False,
                                    'safebrowsing.enabled': False}
            value = self._call('POST', '/session', {'capabilities': {'alwaysMatch': {
                'browserName': 'chrome', 'goog:chromeOptions': options}}})
            self.session = value['sessionId']
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.session:
            try:
                self._call('DELETE', '/session/' + self.session)
            except (WebDriverError, OSError):
                pass
            self.session = None
        if self.driver.poll() is None:
            self.driver.terminate()
            try:
                self.driver.wait(10)
            except subprocess.TimeoutExpired:
                self.driver.kill()
                self.driver.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _wait_ready(self):
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                if self._call('GET', '/status').get('ready'):
                    return
            except (OSError, WebDriverError):
                pass
            time.sleep(0.1)
        raise WebDriverError('chromedriver did not start')

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.load(response).get('value')
        except urllib.error.HTTPError as e:
            raise WebDriverError('%s %s: %s' % (method, path, e.read()[:500])) from None

    def _session(self, method, path, body=None):
        return self._call(method, '/session/%s%s' % (self.session, path), body)

    # ---- what tests use ----

    def get(self, url):
        self._session('POST', '/url', {'url': url})

    @property
    def url(self):
        return self._session('GET', '/url')

    @property
    def title(self):
        return self._session('GET', '/title')

    def back(self):
        self._session('POST', '/back', {})

    def refresh(self):
        self._session('POST', '/refresh', {})

    def find(self, using, value):
        """The element id of the first match; WebDriverError when there is none."""
        return self._session('POST', '/element', {'using': using, 'value': value})[ELEMENT]

    def click(self, element):
        self._session('POST', '/element/%s/click' % element, {})

    def click_link(self, text):
        self.click(self.find('link text', text))

    def send_keys(self, element, text):
        self._session('POST', '/element/%s/value' % element, {'text': text})

    def execute(self, script, *args):
        return self._session('POST', '/execute/sync', {'script': script, 'args': list(args)})

    def execute_async(self, script, *args):
        return self._session('POST', '/execute/async', {'script': script, 'args': list(args)})

    def wait_for(self, predicate, what, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError('timed out waiting for ' + what)
            time.sleep(0.05)

    def sha256_of(self, url):
        """The SHA-256 (hex) of what the browser fetches from `url`."""
        return self.execute_async(
            'const done = arguments[arguments.length - 1];'
            'fetch(arguments[0]).then(r => r.arrayBuffer())'
            '.then(b => crypto.subtle.digest("SHA-256", b))'
            '.then(h => done(Array.from(new Uint8Array(h))'
            '.map(x => x.toString(16).padStart(2, "0")).join("")))'
            '.catch(e => done("error: " + e));', url)

    def screenshot(self, path):
        png = base64.b64decode(self._session('GET', '/screenshot'))
        with open(path, 'wb') as f:
            f.write(png)
        return png
