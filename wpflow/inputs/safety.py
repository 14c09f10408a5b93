"""Checks a partner file passes before any parser sees it: size, container type, zip bombs,
encryption. Each failure is an `Unreadable` with a message a city administration can act on.

Zip bombs are judged by the sizes the zip's directory declares. That is enough because both
readers hold a member to its declared size: python-calamine's zip crate stops with "File is
larger than its declared uncompressed size", Python's zipfile (python-docx) reads no further
and checks the CRC (a test sends such a lying zip).

XML inside DOCX/XLSX is parsed by python-docx (lxml with `resolve_entities=False`) and
python-calamine (a Rust parser without DTD support), so external entities are never fetched
(a test feeds an XXE payload and checks no local file leaks into the result). wpflow parses no
other XML itself; anything that does must use a parser that refuses entities (defusedxml).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File Binary: XLS, DOC, and encrypted OOXML
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")  # the stream an encrypted OOXML file keeps its zip in
ZIP_SUFFIXES = frozenset({".xlsx", ".xlsm", ".docx", ".ods"})
MAX_RATIO = 100  # uncompressed / compressed, for members over MIN_BOMB_MEMBER
MIN_BOMB_MEMBER = 1 << 20
MAX_UNCOMPRESSED = 500 << 20


class Unreadable(Exception):
    """The file cannot be read at all (corrupt, wrong format, encrypted, too big)."""


def check_container(path: Path, suffix: str, max_bytes: int | None = None) -> None:
    """Raise `Unreadable` when `path` (named `...suffix` by the partner) must not be parsed."""
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise Unreadable(
            f"is {file_size(size)}, more than the {file_size(max_bytes)} accepted; split it or send the data as CSV"
        )
    if size == 0:
        raise Unreadable("is empty (0 bytes)")
    if suffix not in ZIP_SUFFIXES:
        return
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == OLE_MAGIC:
        raise Unreadable(ole_message(path, suffix))
    if not zipfile.is_zipfile(path):
        what = "Word" if suffix == ".docx" else "spreadsheet"
        raise Unreadable(
            f"is damaged or not a {what} file (a {suffix} file is a zip archive, this is not); "
            "save it again from the original program"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise Unreadable(f"is damaged ({exc}); save it again from the original program") from None
    total = sum(m.file_size for m in members)
    if total > MAX_UNCOMPRESSED:
        raise Unreadable(
            f"would unpack to {file_size(total)}, more than the {file_size(MAX_UNCOMPRESSED)} "
            "accepted; it looks like a zip bomb and was not opened"
        )
    for m in members:
        if m.file_size > MIN_BOMB_MEMBER and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise Unreadable(
                f"part {m.filename} would unpack {m.file_size // max(m.compress_size, 1)}:1; "
                "it looks like a zip bomb and was not opened"
            )


def file_size(n: int) -> str:
    """'50 MB', '1.5 MB', '12 KB' in binary units, as file managers and `max_file_mb` count."""
    if n < 1 << 20:
        return f"{max(1, round(n / 1024))} KB"
    return f"{n / (1 << 20):.1f}".removesuffix(".0") + " MB"


def ole_message(path: Path, suffix: str) -> str:
    """An OLE file under an .xlsx/.docx name is either encrypted (Office wraps the password-
    protected zip in one) or an Excel/Word 97-2003 file renamed: each needs a different fix."""
    if ENCRYPTED_PACKAGE in path.read_bytes():
        return "is password-protected; remove the password and send it again"
    if suffix == ".docx":  # .doc is not read: Word must convert it
        return "is a Word 97-2003 file (.doc) named .docx; open it in Word and save it as .docx"
    return f"is an Excel 97-2003 file (.xls) named {suffix}; rename it to .xls, or save it as {suffix} in Excel"
