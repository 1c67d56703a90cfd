#!/usr/bin/env bash
# Builds and runs a consumer that sees only single_include/ and Asio, with the warnings of
# our own targets as errors, under C++17 and C++20 and with both GCC and Clang.
# Usage: check.sh tls|no-tls - with tls (a build with OpenSSL) the consumer enables HTTPS.
set -euo pipefail
tls_flags=()
[ "${1:-no-tls}" = tls ] && tls_flags=(-DCGIHTTP_ENABLE_TLS=1)
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
compilers=(g++)
command -v clang++ >/dev/null && compilers+=(clang++)
for cxx in "${compilers[@]}"; do
  for std in c++17 c++20; do
    "$cxx" -std=$std -Wall -Wextra -Wpedantic -Werror -DASIO_STANDALONE -pthread \
      "${tls_flags[@]}" -I"$root/single_include" "$root/tests/single_include/consumer.cpp" \
      -o "$out/consumer" ${tls_flags[@]:+-lssl -lcrypto}
    printf '%s %s: ' "$cxx" "$std"
    "$out/consumer"
  done
done
