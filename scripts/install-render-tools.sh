#!/usr/bin/env bash
# Install what the reports' PDFs and their layout tests need: LibreOffice Writer (DOCX → PDF),
# poppler-utils (pdftotext, pdffonts), metric twins of the templates' Arial and Courier New
# (Liberation Sans and Mono: wpflow measures table columns with their widths), and python3-uno
# (LibreOffice updates the contents list's page numbers before the export).
#
#   scripts/install-render-tools.sh          everything (CI, .ci/run)
#   scripts/install-render-tools.sh --pdf    only what an installed LibreOffice lacks for a
#                                            correct PDF (make demo); never LibreOffice itself
#
# Quiet and idempotent: a no-op when all is present. Runs as root without a TTY (CI) or via
# sudo -n; never fails: without apt-get or the right to use it, it says what to install.
set -uo pipefail
only_pdf=false
[ "${1:-}" = "--pdf" ] && only_pdf=true

twin() {  # twin FONT ACCEPTED...: does fontconfig draw FONT with itself or a metric twin?
    local font=$1 got
    shift
    got=$(fc-match -f '%{family[0]}' "$font" 2>/dev/null) || return 1
    for ok in "$@"; do [ "$got" = "$ok" ] && return 0; done
    return 1
}

missing=()
if ! command -v soffice >/dev/null 2>&1; then
    $only_pdf && exit 0 # no LibreOffice, no PDF: the reports are DOCX only, said by wpflow
    missing+=(libreoffice-writer-nogui)
fi
$only_pdf || command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
if command -v fc-match >/dev/null 2>&1; then
    { twin Arial Arial "Liberation Sans" Arimo && twin "Courier New" "Courier New" "Liberation Mono" Cousine; } ||
        missing+=(fonts-liberation2)
fi
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import uno" >/dev/null 2>&1 || missing+=(python3-uno)
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-render-tools: no apt-get; install ${missing[*]} (or your system's equivalents) by hand" >&2
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
export DEBIAN_FRONTEND=noninteractive
echo "install-render-tools: installing ${missing[*]}"
if ! { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
    echo "install-render-tools: could not install ${missing[*]} (needs root or sudo); install them by hand" >&2
fi
exit 0
