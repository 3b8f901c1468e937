#!/bin/sh
# Install what the browser test of the HTML report needs: Debian's chromium and its chromedriver.
# Idempotent: a no-op when both are present. Installs only when running as root with apt-get;
# otherwise it says what is missing and exits 0 (the browser test then skips with that reason).
set -eu

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/bin/$1" ]; }

if have chromium && have chromedriver; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: chromium/chromedriver missing and not root with apt-get; the HTML browser test will skip." >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver >/dev/null
echo "install-test-deps: installed $(chromium --version 2>/dev/null || echo chromium)"
