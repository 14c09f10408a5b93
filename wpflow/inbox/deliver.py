"""Delivering a file into a partner's watched folder from anywhere but the partner's own hands:
the partner page's upload and the e-mail intake both come through here, so what follows — the
watcher, the gate, the archive, the receipt — is exactly that of a file dropped in the folder.

The bytes are streamed to a hidden `*.part` name beside the milestone folder's files (the
watcher and the collect ignore such names) and renamed in once complete: the watcher never sees
half a file. The size limit is counted while streaming, so an oversize upload stops at the
limit instead of filling the disk; the file's name is reduced to a plain name of its own, so
`../` or a control character in it can never place the file elsewhere or forge a line of a log.
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from schemas.settings import Settings
from wpflow.file_names import shown_name
from wpflow.milestone.collect import is_ignored, milestone_folder

CHUNK = 1 << 16
MAX_NAME_CHARS = 120
# letters (any script), digits and a few harmless marks; everything else becomes "_"
UNSAFE_NAME_CHARS = re.compile(r"[^\w .,()+\-]", re.UNICODE)
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")

Payload = bytes | BinaryIO | Iterable[bytes]


class DeliveryRefused(ValueError):
    """A file that may not go into the folder; the message is one line a partner can act on."""


def safe_file_name(name: str) -> str:
    """The partner's file name as a plain name in the folder: the last part of any path (`/` or
    `\\`), control and unsafe characters replaced, no leading dots or spaces (a hidden file is
    never read), at most `MAX_NAME_CHARS` characters with its extension kept. Refused when
    nothing usable is left or the result is a name the watcher ignores (`~$x.xlsx`, `x.tmp`)."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name or ""))[-1]
    base = "".join(c if unicodedata.category(c)[0] != "C" else "_" for c in base)
    base = UNSAFE_NAME_CHARS.sub("_", base).strip().lstrip(". ").rstrip(". ")
    if len(base) > MAX_NAME_CHARS:
        _stem, dot, suffix = base.rpartition(".")
        keep = f".{suffix}" if dot and len(suffix) <= 10 else ""
        base = base[: MAX_NAME_CHARS - len(keep)].rstrip(". ") + keep
    if not base.strip("_") or "." not in base:
        raise DeliveryRefused(f"the file name {shown_name(name)!r} has no usable name and extension")
    if is_ignored(base):
        raise DeliveryRefused(f"the file name {shown_name(name)!r} is one of a temporary or lock file")
    return base


def free_name(folder: Path, name: str) -> Path:
    """`folder/name`, or `name (2).ext`, `(3)`… when taken: an upload never replaces a file the
    watcher may not have received yet (the archive keeps every version by its bytes anyway)."""
    target = folder / name
    stem, dot, suffix = name.rpartition(".")
    n = 2
    while target.exists() or target.is_symlink():
        target = folder / f"{stem} ({n}){dot}{suffix}"
        n += 1
    return target


def _chunks(payload: Payload) -> Iterable[bytes]:
    if isinstance(payload, bytes | bytearray | memoryview):
        yield bytes(payload)
    elif hasattr(payload, "read"):
        while block := payload.read(CHUNK):
            yield block
    else:
        yield from payload


def checked_folder(settings: Settings, partner_id: str, milestone_id: str) -> Path:
    """`<inbox>/<partner>/<milestone>/`, made when missing; ids that are not plain folder names
    (a `/`, `..`) are refused: they come from a link or a mail subject, not from the project."""
    for what, value in (("partner", partner_id), ("milestone", milestone_id)):
        if not ID_PATTERN.match(value or "") or value in {".", ".."}:
            raise DeliveryRefused(f"{shown_name(value)!r} is not a {what} id")
    folder = milestone_folder(settings.inbox_root, partner_id, milestone_id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def deliver_file(settings: Settings, partner_id: str, milestone_id: str, name: str, stream_or_bytes: Payload) -> Path:
    """Put a partner's file into `<inbox>/<partner_id>/<milestone_id>/` as if the partner had
    dropped it there, and return its path in the folder.

    `stream_or_bytes` is the file's bytes, a binary file object (read in blocks) or an iterable
    of byte blocks. They are written to a hidden `.<random>.part` file in the milestone folder
    (ignored by the watcher and the collect), counted as they come: past
    `settings.max_file_bytes` the part file is removed and `DeliveryRefused` raised, without
    reading further. Once complete the part file is fsynced and renamed to the partner's name,
    escaped by `safe_file_name` and never replacing an existing file (`free_name`). The gate,
    the archive, validation and the receipt are then the watcher's, as for any dropped file.

    Raises `DeliveryRefused` (one line, for the partner) for an unusable name, a bad id or an
    oversize file; an empty file is refused too (nothing to receive)."""
    folder = checked_folder(settings, partner_id, milestone_id)
    final_name = safe_file_name(name)
    limit = settings.max_file_bytes
    part = folder / f".{secrets.token_hex(8)}.part"
    size = 0
    try:
        with part.open("xb") as out:
            for block in _chunks(stream_or_bytes):
                size += len(block)
                if size > limit:
                    raise DeliveryRefused(
                        f"{shown_name(final_name)} is larger than the limit of {settings.max_file_mb:g} MB"
                    )
                out.write(block)
            if size == 0:
                raise DeliveryRefused(f"{shown_name(final_name)} is empty")
            out.flush()
            os.fsync(out.fileno())
        while True:
            target = free_name(folder, final_name)
            try:
                os.link(part, target)  # fails rather than replaces when the name was taken meanwhile
            except FileExistsError:
                continue
            return target
    finally:
        part.unlink(missing_ok=True)
