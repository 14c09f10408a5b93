"""Checks a partner file passes before any parser sees it: size, container type, zip bombs,
encryption. Each failure is an `Unreadable` with a message a city administration can act on.

XML inside DOCX/XLSX is parsed by python-docx (lxml with `resolve_entities=False`) and
python-calamine (a Rust parser without DTD support), so external entities are never fetched
(a test feeds an XXE payload and checks no local file leaks into the result).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File Binary: XLS, DOC, and encrypted OOXML
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
        raise Unreadable(f"is {size / 1e6:.1f} MB, more than the {max_bytes / 1e6:.0f} MB accepted; "
                         "split it or send the data as CSV")
    if size == 0:
        raise Unreadable("is empty (0 bytes)")
    if suffix not in ZIP_SUFFIXES:
        return
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == OLE_MAGIC:
        raise Unreadable("is password-protected (encrypted); remove the password and send it again")
    if not zipfile.is_zipfile(path):
        what = "Word" if suffix == ".docx" else "spreadsheet"
        raise Unreadable(f"is damaged or not a {what} file (a {suffix} file is a zip archive, this is not); "
                         "save it again from the original program")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise Unreadable(f"is damaged ({exc}); save it again from the original program") from None
    total = sum(m.file_size for m in members)
    if total > MAX_UNCOMPRESSED:
        raise Unreadable(f"unpacks to {total / 1e6:.0f} MB, more than {MAX_UNCOMPRESSED / 1e6:.0f} MB: "
                         "refused as a possible zip bomb")
    for m in members:
        if m.file_size > MIN_BOMB_MEMBER and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise Unreadable(f"part {m.filename} is compressed {m.file_size // max(m.compress_size, 1)}:1, "
                             "refused as a possible zip bomb")
