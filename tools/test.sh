#!/usr/bin/env bash
# tools/test.sh - builds everything and runs the whole test suite through CTest three times:
# the default build (warnings are errors), AddressSanitizer+UBSan, and ThreadSanitizer; then
# builds the libFuzzer targets with Clang, replays their seeds and fuzzes each one briefly
# (CGIHTTP_FUZZ_SECONDS per target, default 20; 0 skips the fuzzing, not the replay).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/deps.sh test
jobs=$(nproc)
for preset in default asan tsan fuzz; do
  echo "== $preset build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset" -j "$jobs"
done
fuzz_seconds=${CGIHTTP_FUZZ_SECONDS:-20}
if [ "$fuzz_seconds" != 0 ]; then
  echo "== fuzzing each target for $fuzz_seconds s"
  tests/fuzz/run.sh build/fuzz "$fuzz_seconds"
fi
echo "== all tests passed"
