#!/usr/bin/env python3
"""Side-by-side benchmark: cgihttp's demo server against lighttpd (mod_cgi) and Python 3's
http.server --cgi, on loopback, with wrk. Prints a markdown table of requests/s (MB/s for
the large file), p99 latency, errors, the ratios cgihttp/lighttpd and cgihttp/Python measured
in the same run, each server's peak RSS, and the process-spawn ceiling.

    bench/run.py                3 runs of 5 s per scenario and server, medians (about 8 minutes)
    bench/run.py --quick        1 run of 2 s (under 2 minutes), to check the script works
    bench/run.py --only HTTPS   only the rows whose name contains HTTPS (any case)

Access logs are off for cgihttp (-q) and lighttpd (mod_accesslog not loaded); Python's cannot
be turned off and goes to /dev/null. Needs root (or sudo) to install wrk, lighttpd, gcc.

The HTTPS row runs a second lighttpd (bench/lighttpd-tls.conf.in) and a second cgihttp
(--tls-cert, Python 3.14's flag) with a throwaway certificate; Python 3.11's http.server has
no TLS, so its column is n/a there.
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)

# (name, path, connections, extra wrk arguments, unit)
SCENARIOS = [
    ('static 1 KiB, keep-alive, 16 conns', '/file1k.bin', 16, [], 'req/s'),
    ('static 1 KiB, keep-alive, 128 conns', '/file1k.bin', 128, [], 'req/s'),
    ('static 1 KiB, Connection: close, 128 conns', '/file1k.bin', 128,
     ['-H', 'Connection: close'], 'req/s'),
    ('static 10 MiB, 16 conns', '/file10m.bin', 16, [], 'MB/s'),
    ('directory listing, 200 entries, 16 conns', '/dir200/', 16, [], 'req/s'),
    ('CGI, tiny compiled C program, 16 conns', '/cgi-bin/tiny', 16, [], 'req/s'),
    ('CGI, /bin/sh script, 16 conns', '/cgi-bin/hello.sh', 16, [], 'req/s'),
    ('CGI POST 64 KiB echoed back by sh, 16 conns', '/cgi-bin/echo.sh', 16,
     ['-s', os.path.join(BENCH, 'post64k.lua')], 'req/s'),
]

# Over TLS 1.3: with keep-alive only 16 handshakes happen per run, so the first row measures
# the record layer (encrypting each response); with Connection: close every request is a
# full handshake, so the second measures handshakes.
TLS_SCENARIOS = [
    ('static 1 KiB, keep-alive, 16 conns, HTTPS', '/file1k.bin', 16, [], 'req/s'),
    ('static 1 KiB, Connection: close, 16 conns, HTTPS', '/file1k.bin', 16,
     ['-H', 'Connection: close'], 'req/s'),
]

# The row the spawn ceiling is compared with.
TINY_CGI = 'CGI, tiny compiled C program, 16 conns'


def ensure_tools():
    missing = [pkg for tool, pkg in (('wrk', 'wrk'), ('lighttpd', 'lighttpd'), ('cc', 'gcc'),
                                     ('cmake', 'cmake'), ('ninja', 'ninja-build'),
                                     ('openssl', 'openssl'))
               if not shutil.which(tool) and not os.path.exists('/usr/sbin/' + tool)]
    if not os.path.exists('/usr/lib/lighttpd/mod_openssl.so'):  # Debian ships it apart
        missing.append('lighttpd-mod-openssl')
    if not os.path.exists('/usr/include/openssl/ssl.h'):  # the demo's HTTPS
        missing.append('libssl-dev')
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ['sudo', '-n']
    print('installing', ' '.join(missing), file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    subprocess.run(sudo + ['apt-get', 'update', '-q'], check=True, env=env)
    subprocess.run(sudo + ['apt-get', 'install', '-y', '-q', '--no-install-recommends'] + missing,
                   check=True, env=env)


def build_demo():
    build = os.path.join(REPO, 'build', 'bench')
    subprocess.run(['cmake', '-S', REPO, '-B', build, '-G', 'Ninja', '-DCMAKE_BUILD_TYPE=Release',
                    '-DCGIHTTP_BUILD_TESTS=OFF', '-DCGIHTTP_TLS=ON'], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(['cmake', '--build', build, '--target', 'cgihttpserver'], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(build, 'examples', 'cgihttpserver')


def make_fixture(work):
    """The files of the table: 1 KiB and 10 MiB files, 200 entries, three CGI programs."""
    root = os.path.join(work, 'root')
    os.makedirs(os.path.join(root, 'cgi-bin'))
    os.makedirs(os.path.join(root, 'dir200'))
    with open(os.path.join(root, 'file1k.bin'), 'wb') as f:
        f.write(os.urandom(1024))
    with open(os.path.join(root, 'file10m.bin'), 'wb') as f:
        f.write(os.urandom(10 * 1024 * 1024))
    for i in range(200):
        with open(os.path.join(root, 'dir200', 'entry-%03d.txt' % i), 'w') as f:
            f.write('x\n')
    tiny = os.path.join(work, 'tiny.c')
    with open(tiny, 'w') as f:
        f.write('#include <stdio.h>\nint main(void) { fputs("Content-Type: text/plain\\r\\n'
                '\\r\\nhello\\n", stdout); return 0; }\n')
    subprocess.run(['cc', '-O2', '-o', os.path.join(root, 'cgi-bin', 'tiny'), tiny], check=True)
    scripts = {
        'hello.sh': '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho hello\n',
        'echo.sh': '#!/bin/sh\necho "Content-Type: application/octet-stream"\necho\nexec cat\n',
    }
    for name, text in scripts.items():
        with open(os.path.join(root, 'cgi-bin', name), 'w') as f:
            f.write(text)
    for dirpath, dirnames, filenames in os.walk(work):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o755)
    return root


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError('server exited: %s' % proc.args)
        try:
            socket.create_connection(('127.0.0.1', port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError('server did not listen on %d' % port)


def make_certificate(work):
    """A throwaway self-signed EC P-256 certificate for localhost and 127.0.0.1, valid a day."""
    cert, key = os.path.join(work, 'cert.pem'), os.path.join(work, 'key.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
                    'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
                    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
                   check=True, capture_output=True)
    return cert, key


class Server:
    def __init__(self, name, argv, port, scheme='http'):
        self.name, self.port, self.scheme = name, port, scheme
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(port, self.proc)

    def peak_rss_kib(self):
        with open('/proc/%d/status' % self.proc.pid) as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def lighttpd_argv(work, root, port, name, extra=''):
    """Writes lighttpd.conf.in (plus extra, a TLS part) for this port; the command to run it."""
    with open(os.path.join(BENCH, 'lighttpd.conf.in')) as f:
        conf = f.read() + extra
    conf = conf.replace('@ROOT@', root).replace('@PORT@', str(port)).replace('@WORK@', work)
    conf_path = os.path.join(work, name)
    with open(conf_path, 'w') as f:
        f.write(conf)
    return [shutil.which('lighttpd') or '/usr/sbin/lighttpd', '-D', '-f', conf_path]


def start_servers(work, root, demo):
    servers = []
    port = free_port()
    servers.append(Server('Python 3 http.server --cgi',
                          [sys.executable, '-m', 'http.server', '--cgi', '-b', '127.0.0.1', '-d',
                           root, str(port)], port))
    port = free_port()
    servers.append(Server('lighttpd', lighttpd_argv(work, root, port, 'lighttpd.conf'), port))
    port = free_port()
    servers.append(Server('cgihttp', [demo, '-q', '-p', 'HTTP/1.1', '-b', '127.0.0.1', '-d', root,
                                      str(port)], port))
    return servers


def start_tls_servers(work, root, demo):
    """Second lighttpd and cgihttp instances speaking TLS, with the same certificate."""
    cert, key = make_certificate(work)
    with open(os.path.join(BENCH, 'lighttpd-tls.conf.in')) as f:
        tls = f.read().replace('@CERT@', cert).replace('@KEY@', key)
    port = free_port()
    servers = [Server('lighttpd', lighttpd_argv(work, root, port, 'lighttpd-tls.conf', tls), port,
                      'https')]
    port = free_port()
    try:
        servers.append(Server('cgihttp', [demo, '-q', '-p', 'HTTP/1.1', '-b', '127.0.0.1', '-d',
                                          root, '--tls-cert', cert, '--tls-key', key, str(port)],
                              port, 'https'))
    except RuntimeError:  # main() only stops the servers it was handed
        servers[0].stop()
        raise
    return servers


def negotiated_tls(server):
    """Protocol, ciphersuite and key exchange that OpenSSL's defaults get from the server:
    wrk uses the same libssl with default settings, so this is what its connections use."""
    out = subprocess.run(['openssl', 's_client', '-connect', '127.0.0.1:%d' % server.port,
                          '-brief'], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         timeout=10)
    fields = dict(re.findall(r'^(Protocol version|Ciphersuite|Server Temp Key): ([^,\n]*)',
                             out.stdout + out.stderr, re.M))
    if 'Protocol version' not in fields:
        return 'no TLS handshake'
    return ' '.join(fields.get(k, '?') for k in ('Protocol version', 'Ciphersuite',
                                                 'Server Temp Key'))


def parse_wrk(text, unit):
    def seconds(value, suffix):
        return float(value) * {'us': 1e-6, 'ms': 1e-3, 's': 1.0, 'm': 60.0}[suffix]
    rate = float(re.search(r'Requests/sec:\s+([\d.]+)', text).group(1))
    if unit == 'MB/s':
        value, suffix = re.search(r'Transfer/sec:\s+([\d.]+)(\w+)', text).groups()
        rate = float(value) * {'B': 1e-6, 'KB': 1e-3, 'MB': 1.0, 'GB': 1e3}[suffix]
    p99 = re.search(r'99%\s+([\d.]+)(us|ms|s|m)\b', text)
    errors = sum(int(n) for n in re.findall(r'(?:connect|read|write|timeout) (\d+)', text))
    non2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', text)
    errors += int(non2xx.group(1)) if non2xx else 0
    return rate, seconds(*p99.groups()) if p99 else float('nan'), errors


def run_wrk(server, scenario, duration):
    name, path, conns, extra, unit = scenario
    out = subprocess.run(['wrk', '-t2', '-c%d' % conns, '-d%ds' % duration, '--latency',
                          '--timeout', '10s'] + extra +
                         ['%s://127.0.0.1:%d%s' % (server.scheme, server.port, path)],
                         capture_output=True, text=True, check=True).stdout
    return parse_wrk(out, unit)


def spawn_ceiling(work, root, seconds):
    program = os.path.join(work, 'spawn_ceiling')
    subprocess.run(['cc', '-O2', '-o', program, os.path.join(BENCH, 'spawn_ceiling.c')],
                   check=True)
    with tempfile.TemporaryFile() as sink:
        subprocess.run(['taskset', '-c', '0', program, os.path.join(root, 'cgi-bin', 'tiny'),
                        str(seconds)], stdout=sink, check=True)
        sink.seek(0)
        lines = sink.read().decode(errors='replace').splitlines()
    methods = ('posix_spawn', 'vfork+exec', 'fork+exec')
    return {words[0]: float(words[1]) for words in map(str.split, lines)
            if len(words) == 2 and words[0] in methods}


def measure(scenario, servers, runs, duration):
    """Median rate, median p99 and total errors of each server's runs."""
    samples = {s.name: [] for s in servers}
    for _ in range(runs):  # servers alternate, so drift hits all of them alike
        for server in servers:
            samples[server.name].append(run_wrk(server, scenario, duration))
    return {name: (statistics.median(r for r, _, _ in v), statistics.median(p for _, p, _ in v),
                   sum(e for _, _, e in v)) for name, v in samples.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='1 run of 2 s per scenario')
    parser.add_argument('--only', metavar='TEXT', default='',
                        help='only the scenarios whose name contains TEXT (any case), e.g. HTTPS')
    args = parser.parse_args()
    runs, duration = (1, 2) if args.quick else (3, 5)
    plain_rows, tls_rows = ([s for s in rows if args.only.lower() in s[0].lower()]
                            for rows in (SCENARIOS, TLS_SCENARIOS))
    ensure_tools()
    demo = build_demo()
    work = tempfile.mkdtemp(prefix='cgihttp-bench-')
    os.chmod(work, 0o755)
    servers = []
    try:
        root = make_fixture(work)
        servers = start_servers(work, root, demo)
        if tls_rows:
            servers += start_tls_servers(work, root, demo)
        plain = [s for s in servers if s.scheme == 'http']
        tls = [s for s in servers if s.scheme == 'https']
        handshakes = {s.name: negotiated_tls(s) for s in tls}
        results = {}
        rss = {}
        for rows, group in ((plain_rows, plain), (tls_rows, tls)):
            for scenario in rows:
                results[scenario[0]] = measure(scenario, group, runs, duration)
                if '128 conns' in scenario[0] or '10 MiB' in scenario[0]:
                    rss[scenario[0]] = {s.name: s.peak_rss_kib() for s in group}
                print('done:', scenario[0], file=sys.stderr)
        # The ceiling is only compared with the tiny CGI row, so it is skipped without it.
        ceiling = (spawn_ceiling(work, root, 1 if args.quick else 3)
                   if TINY_CGI in results else {})
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    report(plain_rows + tls_rows, results, rss, ceiling, handshakes, runs, duration)


def report(scenarios, results, rss, ceiling, handshakes, runs, duration):
    names = ['Python 3 http.server --cgi', 'lighttpd', 'cgihttp']
    print('wrk -t2, %d run(s) of %d s, median; %s; %s' % (
        runs, duration, time.strftime('%Y-%m-%d'), os.uname().release))
    print()
    print('| scenario | Python 3 | lighttpd | cgihttp | p99 Python / lighttpd / cgihttp | errors | '
          'cgihttp/lighttpd | cgihttp/Python |')
    print('|---|---:|---:|---:|---|---:|---:|---:|')
    for scenario in scenarios:
        r = results[scenario[0]]  # a server not run for a row (Python: no TLS) is n/a there
        unit = ' MB/s' if scenario[4] == 'MB/s' else ''
        rate = [format(r[n][0], ',.0f') + unit if n in r else 'n/a' for n in names]
        p99 = ' / '.join('%.2f ms' % (r[n][1] * 1e3) if n in r else 'n/a' for n in names)
        errors = ' / '.join(str(r[n][2]) if n in r else 'n/a' for n in names)
        def ratio(a, b):
            return '%.2f' % (r[a][0] / r[b][0]) if a in r and b in r and r[b][0] else 'n/a'
        print('| %s | %s | %s | %s | %s | %s | %s | %s |' % (
            scenario[0], rate[0], rate[1], rate[2], p99, errors, ratio('cgihttp', 'lighttpd'),
            ratio('cgihttp', names[0])))
    print()
    for scenario, values in rss.items():
        print('Peak RSS (VmHWM) after "%s": %s' % (scenario, ', '.join(
            '%s %.1f MiB' % (n, values[n] / 1024) for n in names)))
    if handshakes:
        print('TLS as negotiated (openssl s_client -brief, once per server): %s' % '; '.join(
            '%s %s' % item for item in handshakes.items()))
    if ceiling:
        tiny = results[TINY_CGI]['cgihttp'][0]
        print('Spawn ceiling on one core: %s; cgihttp CGI (tiny program) = %.0f%% of vfork+exec' % (
            ', '.join('%s %.0f/s' % item for item in ceiling.items()),
            100 * tiny / ceiling.get('vfork+exec', float('nan'))))


if __name__ == '__main__':
    main()
