"""What every writer and reader of files here needs, written once: whether a path is a regular
file, a file's SHA-256, replacing a file so that no reader ever sees it half-written, and a
failed write that says what was being written where.

The archive (`wpflow.milestone.collect.archive_file`) hashes while it copies and names the file after the
hash, so it keeps its own single pass; everything else uses these.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wpflow.file_names import MAX_NAME_BYTES, bounded_name

TEMP_NAME_BYTES = len(".") + 8 + len("..tmp")  # what `replacing` adds to a name


class WriteFailed(OSError):
    """An OSError met while writing: `filename` is the file or folder being written (the one a
    person would look for, not a temporary name beside it) and `what` says what it is ("the
    annotated copy"), so the one line of the command says "cannot write the annotated copy
    <path>: …", never "cannot read" (a name too long fails a write and a read alike)."""

    def __init__(self, errno_: int | None, strerror: str | None, filename: str, what: str = "") -> None:
        super().__init__(errno_, strerror, filename)
        self.what = what

    def __reduce__(self) -> tuple[object, ...]:  # crosses processes in a Prefect or Dask result
        return (type(self), (self.errno, self.strerror, self.filename, self.what))


@contextmanager
def writing(path: Path, what: str = "") -> Iterator[Path]:
    """Run the block that writes `path`; an OSError in it is raised again as a `WriteFailed`
    naming `path` and `what` (a write into an open file names no file at all)."""
    try:
        yield path
    except WriteFailed:
        raise
    except OSError as exc:
        raise WriteFailed(exc.errno, exc.strerror or str(exc), str(path), what) from exc


def special_kind(path: Path) -> str | None:
    """What a path is when it is not a regular file — "a FIFO", "a socket", "a device" — or None
    for a regular file. Asked of the path itself (lstat, no link followed): opening a FIFO waits
    for a writer that may never come, so an inbox must refuse it before anything opens it. A
    path gone meanwhile is None: whoever opens it next meets the missing file as before."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISLNK(mode):
        return "a symlink"
    return "not a regular file"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (a report or an upload may be large); only of a
    regular file (`open_regular`)."""
    with open_regular(path) as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


@contextmanager
def replacing(target: Path, what: str = "") -> Iterator[Path]:
    """A temporary path beside `target` to write to; on success it replaces `target` in one
    rename, on failure it is removed. A reader (the outbox's mail client, a partner opening the
    report, a second process) sees the old file or the new one, never a part. An OSError is
    raised as a `WriteFailed` naming `target` (and `what`, e.g. "the e-mail")."""
    with writing(target, what):
        target.parent.mkdir(parents=True, exist_ok=True)
        # a fresh name per writer (two processes may write the same target); not created here, so
        # the writer creates it with the usual permissions; hidden and *.tmp, so no glob finds it;
        # shortened like any name, or a target of 250 bytes could not have one
        stem = bounded_name(target.name, MAX_NAME_BYTES - TEMP_NAME_BYTES, suffix="")
        tmp = target.with_name(f".{stem}.{secrets.token_hex(4)}.tmp")
        try:
            yield tmp
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


class NotRegularFile(OSError):
    """What was opened is not a regular file (a FIFO or a socket put in its place after the
    lstat): refused, never read."""


def open_regular(path: Path) -> io.BufferedReader:
    """`path` opened for reading only if it is a regular file: no link followed, no wait (a FIFO
    opened without O_NONBLOCK waits for a writer for ever), and the opened descriptor itself
    checked — an lstat before the open cannot see a file swapped in between."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(errno.EINVAL, "it is not a regular file", str(path))
        os.set_blocking(fd, True)
        return io.open(fd, "rb")  # noqa: UP020 - os.fdopen's own type is looser
    except BaseException:
        os.close(fd)
        raise
