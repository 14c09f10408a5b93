"""Compare two `outputs/` folders of `make demo`: the DOCX reports byte for byte, the e-mails by
headers, bodies and attachments (Date and Message-ID aside: they differ between any two runs).

A refactoring claims "behaviour unchanged"; this is how it is checked:

    make demo && cp -r outputs /tmp/before      # on the old commit
    make clean && make demo                      # on the new one
    .venv/bin/python scripts/compare_outputs.py /tmp/before outputs

Exit 0 when both folders hold the same reports and the same e-mails, 1 otherwise (each difference
is listed, one line each).
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import zipfile
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

# Headers that name the moment or the machine of one run, not what was sent.
VOLATILE_HEADERS = {"date", "message-id"}
# A multipart boundary is random per message: what it separates is compared, not its name.
BOUNDARY = re.compile(r'boundary="[^"]*"')
# An annotated workbook (openpyxl) stamps its creation time in docProps/core.xml and in each zip
# entry's date: its members are compared, that one aside.
STAMPED_MEMBERS = {"docProps/core.xml"}


def comparable(payload: bytes) -> object:
    """A zip attachment as its members (the stamped one aside), any other payload as it is."""
    if not payload.startswith(b"PK"):
        return payload
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        return {n: archive.read(n) for n in archive.namelist() if n not in STAMPED_MEMBERS}


def report_files(outputs: Path) -> dict[str, Path]:
    """Every DOCX under reports/, by its path relative to the outputs folder."""
    return {str(p.relative_to(outputs)): p for p in sorted((outputs / "reports").rglob("*.docx"))}


def mail_files(outputs: Path) -> dict[str, Path]:
    """Every `.eml` under outbox/ (their names are the idempotency keys' digests: stable)."""
    return {str(p.relative_to(outputs)): p for p in sorted((outputs / "outbox").rglob("*.eml"))}


def mail_parts(path: Path) -> list[tuple[str, str, object]]:
    """(headers, content type, payload) of every part, volatile headers left out."""
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    parts = []
    for part in message.walk():
        headers = "\n".join(
            f"{k}: {v}" for k, v in part.items() if k.lower() not in VOLATILE_HEADERS and not part.is_multipart()
        )
        if part is message:
            headers = "\n".join(f"{k}: {v}" for k, v in message.items() if k.lower() not in VOLATILE_HEADERS)
        payload = b"" if part.is_multipart() else (part.get_payload(decode=True) or b"")
        parts.append((BOUNDARY.sub("boundary", headers), part.get_content_type(), comparable(payload)))
    return parts


def compare(before: Path, after: Path) -> list[str]:
    """One line per difference between the two outputs folders."""
    differences: list[str] = []
    for label, files in (("report", report_files), ("e-mail", mail_files)):
        old, new = files(before), files(after)
        differences += [f"{label} only in {before}: {name}" for name in sorted(old.keys() - new.keys())]
        differences += [f"{label} only in {after}: {name}" for name in sorted(new.keys() - old.keys())]
        for name in sorted(old.keys() & new.keys()):
            same = (
                old[name].read_bytes() == new[name].read_bytes()
                if label == "report"
                else mail_parts(old[name]) == mail_parts(new[name])
            )
            if not same:
                differences.append(f"{label} differs: {name}")
    return differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the outputs folder of the reference run")
    parser.add_argument("after", type=Path, help="the outputs folder to check against it")
    args = parser.parse_args(argv)
    differences = compare(args.before, args.after)
    counts = f"{len(report_files(args.after))} report(s), {len(mail_files(args.after))} e-mail(s)"
    for line in differences:
        print(line)
    print(f"{'same' if not differences else f'{len(differences)} difference(s)'}: {counts} in {args.after}")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
