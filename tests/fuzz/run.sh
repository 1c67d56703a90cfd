#!/usr/bin/env bash
# tests/fuzz/run.sh - runs each cgihttp fuzz target for a while and prints a summary.
#
# usage: tests/fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET [TARGET...]
#
# Every target (default: all of them) is the executable cgihttp_fuzz_<name> found under
# BUILD_DIR. It runs in a temporary directory, on a copy of tests/fuzz/corpus/<name>/ (the
# committed corpus is never written), with tests/fuzz/dict/<name>.dict when present, for
# SECONDS_PER_TARGET seconds with -rss_limit_mb=2048 and -timeout=60 per input. Its log,
# any crash/leak/timeout/oom input and the grown corpus are kept in
# BUILD_DIR/fuzz-results/<name>/. Extra libFuzzer flags can be given in FUZZ_FLAGS.
#
# Exit status: 0 when every target ran without a finding, 1 when one crashed (a sanitizer
# report or a violated property), was killed or is missing, 2 for a usage error.
set -u

usage() {
  echo "usage: $0 BUILD_DIR SECONDS_PER_TARGET [TARGET...]" >&2
  exit 2
}
[ $# -ge 2 ] || usage
build_dir=$1
seconds=$2
shift 2
case $seconds in '' | *[!0-9]*) usage ;; esac
[ -d "$build_dir" ] || { echo "$0: no build directory $build_dir" >&2; exit 2; }
build_dir=$(cd "$build_dir" && pwd)
here=$(cd "$(dirname "$0")" && pwd)

all_targets=(request_parser chunked cgi_response url ranges_conditional handler)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cgihttp-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
results="$build_dir/fuzz-results"
mkdir -p "$results"

failed=0
rows=()
for name in "${targets[@]}"; do
  exe=$(find "$build_dir" -type f -name "cgihttp_fuzz_$name" -perm -u+x 2>/dev/null | head -n 1)
  if [ -z "$exe" ]; then
    echo "== $name: no executable cgihttp_fuzz_$name under $build_dir" >&2
    rows+=("$name|MISSING|-|-|-|-|-")
    failed=1
    continue
  fi
  out="$results/$name"
  rm -rf "$out"
  mkdir -p "$out/artifacts"
  corpus="$work/$name-corpus"
  mkdir -p "$corpus"
  if [ -d "$here/corpus/$name" ]; then cp -R "$here/corpus/$name/." "$corpus/"; fi
  flags=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=60 -print_final_stats=1
         -artifact_prefix="$out/artifacts/")
  [ -f "$here/dict/$name.dict" ] && flags+=(-dict="$here/dict/$name.dict")
  echo "== $name: fuzzing for $seconds s ($exe)"
  # The target's own temporary files (the handler's served tree) go to the working dir.
  (cd "$work" && TMPDIR="$work" "$exe" "${flags[@]}" ${FUZZ_FLAGS:-} "$corpus") >"$out/log" 2>&1
  status=$?
  # The grown corpus, for merging good inputs back by hand (libFuzzer -merge=1).
  cp -R "$corpus" "$out/corpus"

  execs=$(grep -Eo '^#[0-9]+' "$out/log" | tail -n 1 | tr -d '#')
  last=$(grep -E '^#[0-9]+.* cov: ' "$out/log" | tail -n 1)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$out/log" | tail -n 1)
  units=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$out/log" | tail -n 1)
  [ -z "$execs" ] && execs=$units
  files=$(find "$corpus" -type f | wc -l)
  artifacts=$(find "$out/artifacts" -type f | wc -l)

  if [ "$status" -ne 0 ] || [ "$artifacts" -ne 0 ]; then
    failed=1
    result="FAIL($status)"
    echo "== $name: FAILED (exit $status); log: $out/log" >&2
    grep -E -A4 '==FUZZ PROPERTY VIOLATED==|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' \
      "$out/log" | head -n 20 >&2
    for a in "$out"/artifacts/*; do
      [ -f "$a" ] && echo "   reproduce: $exe $a" >&2
    done
  else
    result=ok
  fi
  rows+=("$name|$result|${execs:--}|${rate:--}|${cov:--}|${ft:--}|$files")
done

echo
printf '%-20s %-10s %12s %9s %7s %8s %8s\n' target result execs exec/s cov ft corpus
for row in "${rows[@]}"; do
  IFS='|' read -r n r e x c f k <<<"$row"
  printf '%-20s %-10s %12s %9s %7s %8s %8s\n' "$n" "$r" "$e" "$x" "$c" "$f" "$k"
done
echo "(logs, artifacts and grown corpora: $results)"
exit "$failed"
