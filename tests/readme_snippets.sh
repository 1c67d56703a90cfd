#!/usr/bin/env bash
# Compiles every C++ example of README.md as it stands, with our warnings as errors: the
# README must not show code that does not build. Usage: readme_snippets.sh CXX tls|no-tls
# (a build without TLS leaves out the HTTPS examples).
set -euo pipefail
cxx=${1:-c++}
tls=${2:-no-tls}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk -v dir="$work" '/^```cpp$/ {n++; file=sprintf("%s/snippet%d.cpp", dir, n); inside=1; next}
                    /^```$/ {inside=0; next}
                    inside {print > file}' "$root/README.md"
count=0
for snippet in "$work"/snippet*.cpp; do
  [ -e "$snippet" ] || { echo "README.md has no C++ example" >&2; exit 1; }
  flags=()
  if grep -q 'tls_' "$snippet"; then
    [ "$tls" = tls ] || continue
    flags+=(-DCGIHTTP_ENABLE_TLS=1)
  fi
  "$cxx" -std=c++17 -Wall -Wextra -Wpedantic -Werror -DASIO_STANDALONE -pthread "${flags[@]}" \
    -I"$root/include" -c "$snippet" -o "${snippet%.cpp}.o"
  count=$((count + 1))
done
echo "$count README examples compile"
