#!/usr/bin/env python3
"""How many slowloris connections the demo server holds while still serving: opens N
connections to `cgihttpserver -p HTTP/1.1` on loopback, each sending one byte of a request
head at a time (every second), and meanwhile fetches the index and a CGI script in a loop.
Prints how many connections are still open after the run, the slowest and median fetch, the
server's descriptors and peak RSS. A measurement, not a test.

    bench/slowloris.py                   9,500 connections for 12 s
    bench/slowloris.py -n 2000 -s 30

The descriptor limit is raised to its hard limit for the client and the server; the server
holds up to half of it (max_connections' default), beyond which it answers 503.
"""
import argparse
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402 (the benchmark's build and server helpers)


def raise_descriptor_limit():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('-n', '--connections', type=int, default=9500)
    parser.add_argument('-s', '--seconds', type=float, default=12.0)
    args = parser.parse_args()
    limit = raise_descriptor_limit()
    demo = run.build_demo()
    port = run.free_port()
    server = subprocess.Popen([demo, '-q', '-p', 'HTTP/1.1', '-b', '127.0.0.1', str(port)],
                              cwd=os.path.join(run.REPO, 'examples', 'www'),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run.wait_listening(port, server)
        started = time.monotonic()
        drips = []
        for _ in range(args.connections):
            s = socket.create_connection(('127.0.0.1', port))
            s.send(b'G')
            drips.append(s)
        opened = time.monotonic() - started

        base = 'http://127.0.0.1:%d' % port
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        fetches = []
        deadline = time.monotonic() + args.seconds
        turn = 0
        while time.monotonic() < deadline:
            for s in drips[turn % 10::10]:  # each connection sends a byte every 10 turns
                s.send(b'E')
            turn += 1
            for path in ('/', '/cgi-bin/hello.sh'):
                t = time.monotonic()
                opener.open(base + path, timeout=10).read()
                fetches.append(time.monotonic() - t)
            time.sleep(0.1)

        open_count = 0  # held: nothing received, neither an answer (408, 503) nor a close
        for s in drips:
            s.setblocking(False)
            try:
                s.recv(1)
            except BlockingIOError:
                open_count += 1
        fds = len(os.listdir('/proc/%d/fd' % server.pid))
        with open('/proc/%d/status' % server.pid) as f:
            hwm = next(int(line.split()[1]) for line in f if line.startswith('VmHWM:'))
        fetches.sort()
        print('%d slowloris connections (opened in %.1f s, RLIMIT_NOFILE %d): %d still open '
              'after %.0f s; %d fetches of / and a CGI script meanwhile, median %.4f s, '
              'slowest %.4f s; server: %d descriptors, VmHWM %.1f MiB'
              % (args.connections, opened, limit, open_count, args.seconds, len(fetches),
                 fetches[len(fetches) // 2], fetches[-1], fds, hwm / 1024))
    finally:
        server.terminate()
        server.wait()


if __name__ == '__main__':
    main()
