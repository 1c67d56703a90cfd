#!/usr/bin/env bash
# Compiles each public header alone in its own translation unit: every header must include
# what it uses. Usage: headers_self_contained.sh CXX tls|no-tls
# With tls (a build with OpenSSL) the headers are compiled as such a build sees them; without,
# tls.hpp, the only header that needs OpenSSL, is left out and OpenSSL's headers are hidden.
set -euo pipefail
cxx=${1:-c++}
tls=${2:-no-tls}
root=$(cd "$(dirname "$0")/.." && pwd)
failed=0
flags=()
if [ "$tls" = tls ]; then
  flags+=(-DCGIHTTP_ENABLE_TLS=1)
else
  # Proof that HTTP-only users never need OpenSSL: its headers are made to fail if included.
  poisoned=$(mktemp -d)
  trap 'rm -rf "$poisoned"' EXIT
  mkdir "$poisoned/openssl"
  for h in ssl err evp x509 crypto opensslv conf; do
    echo '#error "an HTTP-only build included OpenSSL"' >"$poisoned/openssl/$h.h"
  done
  flags+=(-I"$poisoned")
fi
cd "$root/include"
for header in $(find cgihttp -name '*.hpp' | sort); do
  [ "$tls" != tls ] && [ "$header" = cgihttp/tls.hpp ] && continue
  if ! echo "#include <$header>" | "$cxx" -std=c++17 -x c++ -fsyntax-only -Wall -Wextra \
      -Wpedantic -Werror -DASIO_STANDALONE "${flags[@]}" -I"$root/include" -; then
    echo "not self-contained: $header" >&2
    failed=1
  fi
done
[ $failed = 0 ] && echo "every header compiles on its own"
exit $failed
