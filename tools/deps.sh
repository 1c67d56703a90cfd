#!/usr/bin/env bash
# tools/deps.sh - checks (and, when allowed, installs) what building cgihttp needs.
#   tools/deps.sh demo|test      check; install with apt-get when root or passwordless sudo
#   tools/deps.sh --list demo|test   print the Debian packages
# The package lists live here only: the README's commands and .ci/run both call this.
set -euo pipefail

# libssl-dev gives the demo HTTPS (--tls-cert); the library itself builds without it.
demo_packages="cmake g++ ninja-build libasio-dev libssl-dev"
test_packages="$demo_packages doctest-dev python3 openssl curl wget clang libclang-rt-dev pkg-config util-linux chromium chromium-driver php-cgi libcgi-pm-perl cgit gitweb git"

list_only=0
if [ "${1:-}" = "--list" ]; then list_only=1; shift; fi
case "${1:-}" in
  demo) packages=$demo_packages ;;
  test) packages=$test_packages ;;
  *) echo "usage: tools/deps.sh [--list] demo|test" >&2; exit 2 ;;
esac
if [ "$list_only" = 1 ]; then echo "$packages"; exit 0; fi

missing=()
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "cgihttp: missing ${missing[*]}; this is not a Debian-like system, install the equivalents of: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "cgihttp: missing Debian packages: ${missing[*]}" >&2
  echo "install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "cgihttp: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
