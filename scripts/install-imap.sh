#!/usr/bin/env bash
# Install what the e-mail intake's tests need (tests/intake/): Debian's Dovecot IMAP server. The
# tests start their own instance (tests/dovecot.py: foreground, a configuration of its own in a
# temporary folder, loopback on a free port); the system's service is not used, and the package's
# own start of it is held back (policy-rc.d) so nothing listens on 143 or 993 because of this.
#
# Quiet and idempotent: a no-op when Dovecot's IMAP server is present. Runs as root without a TTY
# (CI) or via sudo -n; never fails: without apt-get or the right to use it, it says what to
# install, and the intake's tests skip saying why.
set -uo pipefail
[ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-imap: no apt-get; install Dovecot's IMAP server (dovecot-imapd) by hand" >&2
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
export DEBIAN_FRONTEND=noninteractive
echo "install-imap: installing dovecot-imapd"
policy=/usr/sbin/policy-rc.d
held=false
if [ ! -e "$policy" ]; then # exit 101: "do not start services" while the package installs
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy" && held=true
fi
if ! { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq dovecot-imapd >/dev/null; }; then
    echo "install-imap: could not install dovecot-imapd (needs root or sudo); install it by hand" >&2
fi
$held && $sudo rm -f "$policy"
exit 0
