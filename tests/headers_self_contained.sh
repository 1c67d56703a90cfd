#!/usr/bin/env bash
# Compiles each public header alone in its own translation unit: every header must include
# what it uses. Usage: headers_self_contained.sh CXX
set -euo pipefail
cxx=${1:-c++}
root=$(cd "$(dirname "$0")/.." && pwd)
failed=0
cd "$root/include"
for header in $(find cgihttp -name '*.hpp' | sort); do
  if ! echo "#include <$header>" | "$cxx" -std=c++17 -x c++ -fsyntax-only -Wall -Wextra \
      -Wpedantic -Werror -DASIO_STANDALONE -I"$root/include" -; then
    echo "not self-contained: $header" >&2
    failed=1
  fi
done
[ $failed = 0 ] && echo "every header compiles on its own"
exit $failed
