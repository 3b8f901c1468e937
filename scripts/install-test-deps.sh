#!/bin/sh
# System packages the test suite needs beyond Python: Debian's chromium and its chromedriver, for the
# HTML report's browser test (layout at two widths, scripts inert, screenshots).
#
# Installs only what is missing, and says what and why before it does. Needs root and apt-get; without
# them it names the packages to install and exits 1 (the browser test would fail, not skip).
#
# Contributors who cannot or will not install a browser: COLLAPSE_AUDIT_SKIP_BROWSER=1 (here and for
# pytest) skips the browser test instead, saying so. CI never sets it.
set -eu

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/bin/$1" ]; }

if [ "${COLLAPSE_AUDIT_SKIP_BROWSER:-}" = "1" ]; then
  echo "install-test-deps: COLLAPSE_AUDIT_SKIP_BROWSER=1: not installing chromium; the HTML report's browser test will be skipped." >&2
  exit 0
fi

missing=""
have chromium || missing="chromium"
have chromedriver || missing="${missing:+$missing }chromium-driver"
if [ -z "$missing" ]; then
  exit 0
fi
why="the HTML report's browser test renders the report in headless chromium"
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: missing $missing ($why); install it as root (apt-get install -y $missing)," >&2
  echo "install-test-deps: or set COLLAPSE_AUDIT_SKIP_BROWSER=1 to skip that test." >&2
  exit 1
fi
echo "install-test-deps: installing $missing with apt-get: $why (set COLLAPSE_AUDIT_SKIP_BROWSER=1 to skip that test instead)." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086  # one word per package
apt-get install -y -qq $missing >/dev/null
echo "install-test-deps: installed $(chromium --version 2>/dev/null || echo "$missing")" >&2
