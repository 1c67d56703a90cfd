#!/usr/bin/env bash
# tools/demo.sh [cgihttpserver options] - builds the demo server and runs it on the current
# directory (default options: --cgi 8000). Stop it with Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/deps.sh" demo
cmake -S "$root" -B "$root/build/demo" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCGIHTTP_BUILD_TESTS=OFF >/dev/null
cmake --build "$root/build/demo" --target cgihttpserver hello_cgi
[ $# -eq 0 ] && set -- --cgi
exec "$root/build/demo/examples/cgihttpserver" "$@"
