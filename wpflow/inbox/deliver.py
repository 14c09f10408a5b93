"""Putting a file into a partner's watched folder the way a dropped file arrives: written under a
temporary name beside `<inbox>/<partner>/<milestone>/` and renamed in, so the watcher, the gate,
the archive and the receipt are exactly those of a file a partner dropped there. Every other way
in (the e-mail intake, the partner page's upload) delivers through `deliver_file`.

The temporary name is hidden and ends in `.part` (`wpflow.milestone.collect.is_ignored`): the
watcher never reads a half-written file; the rename is atomic on one file system. The size limit
is counted while the bytes stream in, so an oversize file stops at the limit instead of filling
the disk; the name is reduced to one harmless path component, so `../` or a control character
can never place the file elsewhere or forge a line of a log.
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
from wpflow.milestone.collect import is_ignored

CHUNK = 1 << 20
MAX_NAME_BYTES = 200  # below every file system's 255, leaving room for the temporary name's additions
FALLBACK_NAME = "attachment"
RENAMED = "renamed "  # before a name the watcher would ignore (`~$x.xlsx`, `x.tmp`): the file gets its receipt

Payload = bytes | BinaryIO | Iterable[bytes]


class DeliveryRefused(ValueError):
    """The file cannot be delivered (too large, no such partner folder); the message says why."""


def safe_file_name(name: str) -> str:
    """A partner's file name as one harmless path component: no folder part (`../`, `C:\\`),
    no control or invisible formatting character, not hidden, not empty, at most
    `MAX_NAME_BYTES` in UTF-8 (the extension kept). Accents and spaces are kept as sent. A name
    the watcher ignores (a lock file's, a partial download's) is prefixed with "renamed " (and
    given `.txt` when its ending is what is ignored), so the file is read and receipted."""
    base = re.split(r"[\\/]", name)[-1]
    kept = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C")
    kept = " ".join(kept.split()).strip(" .")
    if not kept or kept in (".", ".."):
        kept = FALLBACK_NAME
    if is_ignored(kept):
        kept = RENAMED + kept.lstrip("~$. ")
        if is_ignored(kept):
            kept += ".txt"
    stem, dot, suffix = kept.rpartition(".") if "." in kept else (kept, "", "")
    suffix = suffix[:20]
    while len((stem + dot + suffix).encode("utf-8")) > MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    return (stem or FALLBACK_NAME) + dot + suffix


def deliver_file(settings: Settings, partner_id: str, milestone_id: str, name: str, stream_or_bytes: Payload) -> Path:
    """Write a file into `<inbox>/<partner_id>/<milestone_id>/` under its safe name and return its
    path. `stream_or_bytes` is the file's bytes, a binary file object (read in blocks) or an
    iterable of byte blocks, streamed to a temporary name beside it, fsynced, then renamed in one
    step: a file of that name already there is replaced, as a partner replacing a file in the
    folder would (the archive keeps every version the watcher received, by its bytes). Refused
    (`DeliveryRefused`, one line, nothing left behind) past `settings.max_file_bytes` — without
    reading further — or for ids that are not plain folder names."""
    for part, what in ((partner_id, "partner"), (milestone_id, "milestone")):
        if safe_file_name(part) != part or part.startswith("."):
            raise DeliveryRefused(f"{shown_name(part)!r} is not a {what} folder name")
    folder = settings.inbox_root / partner_id / milestone_id
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_file_name(name)
    tmp = folder / f".{target.name}.{secrets.token_hex(4)}.part"
    written = 0
    try:
        with tmp.open("xb") as out:
            for chunk in _chunks(stream_or_bytes):
                written += len(chunk)
                if written > settings.max_file_bytes:
                    raise DeliveryRefused(f"{target.name} is larger than the limit of {settings.max_file_mb:g} MB")
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())  # the rename must not land before the bytes (a crash in between)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _chunks(payload: Payload) -> Iterable[bytes]:
    if isinstance(payload, bytes | bytearray | memoryview):
        yield bytes(payload)
    elif hasattr(payload, "read"):
        while chunk := payload.read(CHUNK):
            yield chunk
    else:
        yield from payload
