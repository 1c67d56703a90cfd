#!/usr/bin/env bash
# tools/test.sh - builds everything and runs the whole test suite through CTest three times:
# the default build (warnings are errors), AddressSanitizer+UBSan, and ThreadSanitizer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/deps.sh test
jobs=$(nproc)
for preset in default asan tsan; do
  echo "== $preset build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset" -j "$jobs"
done
echo "== all tests passed"
