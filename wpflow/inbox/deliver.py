"""Putting a file into a partner's watched folder the way a dropped file arrives: written under a
temporary name beside `<inbox>/<partner>/<milestone>/` and renamed in, so the watcher, the gate,
the archive and the receipt are exactly those of a file a partner dropped there. Every other way
in (the e-mail intake, an upload page) delivers through `deliver_file`.

The temporary name is hidden and ends in `.part` (`wpflow.milestone.collect.is_ignored`): the
watcher never reads a half-written file; the rename is atomic on one file system.
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

CHUNK = 1 << 20
MAX_NAME_BYTES = 200  # below every file system's 255, leaving room for the temporary name's additions
FALLBACK_NAME = "attachment"


class DeliveryRefused(ValueError):
    """The file cannot be delivered (too large, no such partner folder); the message says why."""


def safe_file_name(name: str) -> str:
    """A partner's file name as one harmless path component: no folder part (`../`, `C:\\`),
    no control or invisible formatting character, not hidden, not empty, at most
    `MAX_NAME_BYTES` in UTF-8 (the extension kept). Accents and spaces are kept as sent."""
    base = re.split(r"[\\/]", name)[-1]
    kept = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C")
    kept = " ".join(kept.split()).strip(" .")
    if not kept or kept in (".", ".."):
        kept = FALLBACK_NAME
    stem, dot, suffix = kept.rpartition(".") if "." in kept else (kept, "", "")
    suffix = suffix[:20]
    while len((stem + dot + suffix).encode("utf-8")) > MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    return (stem or FALLBACK_NAME) + dot + suffix


def deliver_file(
    settings: Settings, partner_id: str, milestone_id: str, name: str, stream_or_bytes: bytes | BinaryIO
) -> Path:
    """Write a file into `<inbox>/<partner_id>/<milestone_id>/` under its safe name and return its
    path. Streamed to a temporary name beside it, then renamed in one step: a file of that name
    already there is replaced, as a partner replacing a file in the folder would. Refused
    (`DeliveryRefused`, nothing left behind) past `settings.max_file_bytes`."""
    for part, what in ((partner_id, "partner"), (milestone_id, "milestone")):
        if safe_file_name(part) != part or part.startswith("."):
            raise DeliveryRefused(f"{part!r} is not a {what} folder name")
    folder = settings.inbox_root / partner_id / milestone_id
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_file_name(name)
    tmp = folder / f".{target.name}.{secrets.token_hex(4)}.part"
    chunks: Iterable[bytes] = [stream_or_bytes] if isinstance(stream_or_bytes, bytes) else _chunks(stream_or_bytes)
    written = 0
    try:
        with tmp.open("xb") as out:
            for chunk in chunks:
                written += len(chunk)
                if written > settings.max_file_bytes:
                    raise DeliveryRefused(
                        f"{target.name} for {partner_id}/{milestone_id} is larger than {settings.max_file_mb:g} MB"
                    )
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())  # the rename must not land before the bytes (a crash in between)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _chunks(stream: BinaryIO) -> Iterable[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk
