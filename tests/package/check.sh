#!/usr/bin/env bash
# The three ways to consume cgihttp's CMake package or pkg-config file, each built and run:
# find_package against an installed tree, add_subdirectory of the sources, pkg-config.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
quiet() { "$@" >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }; }

quiet cmake -S "$root" -B "$work/lib" -DCGIHTTP_BUILD_TESTS=OFF -DCGIHTTP_BUILD_EXAMPLES=OFF \
  -DCGIHTTP_INSTALL=ON -DCMAKE_INSTALL_PREFIX="$work/prefix"
quiet cmake --install "$work/lib"
for f in include/cgihttp/handler.hpp share/cmake/cgihttp/cgihttpConfig.cmake \
         share/cmake/cgihttp/cgihttpConfigVersion.cmake share/pkgconfig/cgihttp.pc; do
  [ -f "$work/prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done

quiet cmake -S "$root/tests/package/find_package" -B "$work/fp" -DCMAKE_PREFIX_PATH="$work/prefix"
quiet cmake --build "$work/fp"
"$work/fp/consumer"

quiet cmake -S "$root/tests/package/add_subdirectory" -B "$work/as" -DCGIHTTP_SOURCE_DIR="$root"
quiet cmake --build "$work/as"
"$work/as/consumer"
# Tests and examples stay out of an add_subdirectory build.
if grep -q cgihttp_unit_tests "$work/as/Makefile" "$work/as/cgihttp/Makefile" 2>/dev/null; then
  echo "add_subdirectory built cgihttp's own tests"; exit 1
fi

export PKG_CONFIG_PATH="$work/prefix/share/pkgconfig"
${CXX:-c++} -std=c++17 $(pkg-config --cflags cgihttp) "$root/tests/package/consumer.cpp" \
  -o "$work/pc-consumer" $(pkg-config --libs cgihttp)
"$work/pc-consumer"
