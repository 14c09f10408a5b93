#!/usr/bin/env bash
# Install what the report layout test needs: LibreOffice Writer (DOCX → PDF), poppler-utils
# (pdftotext) and Carlito, the metric twin of the template's Calibri that wpflow measures with.
# Quiet, idempotent, a no-op when all are present; runs as root without a TTY (CI), or via sudo.
set -euo pipefail
missing=()
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-writer-nogui)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
fc-list 2>/dev/null | grep -qi carlito || missing+=(fonts-crosextra-carlito)
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-render-tools: no apt-get; install ${missing[*]} by hand (the PDF layout test is skipped meanwhile)" >&2
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
export DEBIAN_FRONTEND=noninteractive
echo "install-render-tools: installing ${missing[*]}"
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
