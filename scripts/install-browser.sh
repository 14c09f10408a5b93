#!/usr/bin/env bash
# Install what the browser test of the Prefect UI needs (tests/orchestration/test_ui_browser.py):
# Debian's Chromium at /usr/bin/chromium. Playwright itself is a Python package of the test
# extra (make install); its own browser download is not used — the CI machines cannot reach it,
# and the test starts this Chromium instead (executable_path).
#
# Quiet and idempotent: a no-op when Chromium is present. Runs as root without a TTY (CI) or via
# sudo -n; never fails: without apt-get or the right to use it, it says what to install, and the
# browser test skips saying why.
set -uo pipefail
[ -x /usr/bin/chromium ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: no apt-get; install Chromium at /usr/bin/chromium by hand" >&2
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
export DEBIAN_FRONTEND=noninteractive
echo "install-browser: installing chromium"
if ! { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq chromium >/dev/null; }; then
    echo "install-browser: could not install chromium (needs root or sudo); install it by hand" >&2
fi
exit 0
