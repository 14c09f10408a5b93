"""Two things every writer and reader of files here needs, written once: a file's SHA-256, and
replacing a file so that no reader ever sees it half-written.

The archive (`wpflow.milestone.collect.archive_file`) hashes while it copies and names the file after the
hash, so it keeps its own single pass; everything else uses these.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (a report or an upload may be large)."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A temporary path beside `target` to write to; on success it replaces `target` in one
    rename, on failure it is removed. A reader (the outbox's mail client, a partner opening the
    report, a second process) sees the old file or the new one, never a part."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # a fresh name per writer (two processes may write the same target); not created here, so
    # the writer creates it with the usual permissions; hidden and *.tmp, so no glob finds it
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
