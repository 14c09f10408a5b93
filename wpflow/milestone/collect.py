"""Collect: find the partners' files for a milestone and archive each one by content hash.

Archiving comes first, before any parsing, so that nothing a partner sent can be lost to a
crash or a bug further down. The archive is content-addressed (`archive/<sha256>`): the same
bytes twice are stored once, and a copy is written atomically (temp file + rename) so a
half-written archive entry never exists under its final name.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as dtime
from fnmatch import translate
from functools import lru_cache
from pathlib import Path

import yaml

from schemas.project import Milestone, Project
from schemas.records import Submission
from wpflow.file_names import shown_name
from wpflow.files import file_sha256, open_regular, special_kind

log = logging.getLogger(__name__)

ARRIVALS_FILE = "arrivals.yaml"
IGNORED_PATTERNS = ("~$*", ".~lock.*", "*.tmp", "*.part", "*.crdownload", ".*", "*~", "Thumbs.db", "desktop.ini")
# one expression for all of them (fnmatch's own translation, case-sensitive as fnmatch is on
# POSIX): the daily look at the inbox asks this of every file
IGNORED = re.compile("|".join(translate(pattern) for pattern in IGNORED_PATTERNS))
CHUNK = 1 << 20
# A stable file that still looks partial waits ten stability windows since its last change, at
# most this long, then is read anyway (a CSV saved without a final newline is complete, just unusual).
PARTIAL_WAIT_SECONDS = 10.0
ZIP_SUFFIXES = frozenset({".xlsx", ".xlsm", ".docx", ".ods", ".zip"})
ZIP_END_RECORD = b"PK\x05\x06"  # end of central directory: the last thing a zip writer writes
ZIP_TAIL = 22 + 0xFFFF  # the record plus the longest zip comment
LINE_SUFFIXES = frozenset({".csv", ".tsv"})


@dataclass(frozen=True)
class InboxFile:
    """A file lying in a partner's folder for a milestone: the first of a delivered file's
    shapes (then a stored `Submission`, then a validated `CheckedSubmission`)."""

    partner: str
    milestone: str
    path: Path

    @property
    def relative(self) -> str:
        return f"{self.partner}/{self.milestone}/{self.path.name}"


def is_ignored(name: str) -> bool:
    """Editor lock files, partial downloads and hidden files are never submissions."""
    return name == ARRIVALS_FILE or IGNORED.match(name) is not None


def milestone_folder(inbox_root: Path, partner: str, milestone: str) -> Path:
    return inbox_root / partner / milestone


class InboxMissing(FileNotFoundError):
    """The project's inbox folder itself is not there: a setting points elsewhere (WPFLOW_INBOX,
    WPFLOW_INBOXES) or a share is not mounted. Not "nothing arrived": nobody is told that
    partners are late because of it."""


def require_inbox(inbox_root: Path) -> None:
    """Raise InboxMissing (one line: the folder, and that nothing was collected or sent) unless
    the project's inbox folder exists."""
    if not inbox_root.is_dir():
        raise InboxMissing(
            errno.ENOENT,
            "the project's inbox folder does not exist, so nothing was collected and no one was told "
            "that nothing arrived (create it, or check WPFLOW_INBOX / WPFLOW_INBOXES)",
            str(inbox_root),
        )


def inbox_line(inbox_root: Path) -> str:
    """`inbox: <folder>` as `init`, `project show` and `serve` print it: the folder this
    project's runs and watcher read (WPFLOW_INBOX, WPFLOW_INBOXES or <project>/inbox), and
    whether it is there."""
    missing = "" if inbox_root.is_dir() else " (missing: nothing can be collected until it exists)"
    return f"inbox: {inbox_root}{missing}"


def list_inbox(inbox_root: Path, partners: Iterable[str], milestone: str) -> list[InboxFile]:
    """Files in `<inbox>/<partner>/<milestone>/` for the given partners, sorted for stable order.

    Symlinks are skipped with a log line: a link could point outside the inbox, and the
    partner's folder is the only place whose contents the partner vouches for.
    """
    require_inbox(inbox_root)
    found = []
    for partner in partners:
        folder = milestone_folder(inbox_root, partner, milestone)
        if folder.is_dir():
            found += files_in(folder, partner, milestone)
    return found


def list_whole_inbox(inbox_root: Path, partners: Iterable[str]) -> dict[str, list[InboxFile]]:
    """`list_inbox` of every milestone folder at once, keyed by folder name: one walk of the
    inbox instead of a look into every partner's folder for every milestone (a daily look at
    25 milestones of 16 partners would be 400)."""
    require_inbox(inbox_root)
    found: dict[str, list[InboxFile]] = {}
    for partner in partners:
        partner_folder = inbox_root / partner
        if not partner_folder.is_dir():
            continue
        for folder in sorted(partner_folder.iterdir()):
            if folder.is_dir():
                found.setdefault(folder.name, []).extend(files_in(folder, partner, folder.name))
    return found


def files_in(folder: Path, partner: str, milestone: str) -> list[InboxFile]:
    """The submissions lying in one partner's milestone folder, by name."""
    found = []
    for path in sorted(folder.iterdir()):
        if is_ignored(path.name) or path.is_dir():
            continue
        if path.is_symlink():
            log.warning("skipping symlink %s: links are not accepted as submissions", shown_name(path))
            continue
        if (kind := special_kind(path)) is not None:
            log.warning(
                "skipping %s: it is %s, not a file; only files are accepted as submissions", shown_name(path), kind
            )
            continue
        found.append(InboxFile(partner, milestone, path))
    return found


def wait_until_stable(
    path: Path, window: float, *, partial_wait: float | None = None, timeout: float = 60.0, poll: float = 0.2
) -> os.stat_result:
    """Return the file's stat once size and mtime have not changed for `window` seconds and it
    does not look partial (`looks_partial`) — or has not changed for `partial_wait` seconds
    (default: ten windows, at most `PARTIAL_WAIT_SECONDS`), when it is read anyway.

    A partner's upload or a network copy may still be writing; reading it then would archive
    half a file. A pause in an upload longer than the window is no proof of its end: a ZIP
    without its end record or a CSV without its last newline waits for the rest. Files that
    have been quiet long enough are ready at once.
    """
    bound = max(window, min(PARTIAL_WAIT_SECONDS, 10 * window) if partial_wait is None else partial_wait)
    deadline = time.monotonic() + timeout
    last = path.stat()
    # time since the last write, as the file's mtime tells (a file lying there for a day is ready)
    stable_since = time.monotonic() - max(0.0, time.time() - last.st_mtime)
    while True:
        quiet = time.monotonic() - stable_since
        if quiet >= window and (quiet >= bound or not looks_partial(path, Path(path).suffix.lower())):
            return last
        if time.monotonic() > deadline:
            raise TimeoutError(f"{shown_name(path.name)} kept changing for {timeout:.0f}s; will retry later")
        time.sleep(poll)
        current = path.stat()
        if (current.st_size, current.st_mtime_ns) != (last.st_size, last.st_mtime_ns):
            last, stable_since = current, time.monotonic()


def looks_partial(path: Path, suffix: str) -> bool:
    """True for a file that is detectably cut short: a ZIP container (XLSX, DOCX, …) whose
    end-of-central-directory record is missing, or a CSV whose last line has no newline. Reads
    the last 64 KB at most; an empty file is partial (an upload that has not begun)."""
    try:
        if special_kind(path) is not None:
            return False  # not a file: the gate refuses it; opening it could wait for ever
        with path.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            if size == 0:
                return True
            fh.seek(max(0, size - ZIP_TAIL))
            tail = fh.read()
    except OSError:
        return False  # unreadable: the gate says why, waiting will not help
    if suffix in ZIP_SUFFIXES:
        return ZIP_END_RECORD not in tail[-ZIP_TAIL:]
    if suffix in LINE_SUFFIXES:
        return not tail.endswith((b"\n", b"\r"))
    return False


def archive_file(path: Path, archive_dir: Path) -> tuple[str, int, Path]:
    """Copy the file to `archive_dir/<sha256>` unless those bytes are already archived.

    Hashes exactly the bytes written to a private copy (in the same pass), so a partner
    overwriting the file while we read cannot make the archive's name disagree with its content.
    """
    archive_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=archive_dir, prefix=".incoming-")
    tmp = Path(tmp_name)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out, open_regular(path) as src:
            while chunk := src.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        sha = digest.hexdigest()
        target = archive_dir / sha
        if target.exists():
            tmp.unlink()
        else:
            os.replace(tmp, target)
        return sha, size, target
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_arrivals(inbox_root: Path) -> dict[str, date]:
    """Arrival dates of the bundled sample files (git keeps no file times), keyed by
    `partner/milestone/file`. A real inbox has no such file and file times are used.
    Parsed once per version of the file: a replay of three years reads it every day."""
    file = inbox_root / ARRIVALS_FILE
    try:
        st = file.stat()
    except FileNotFoundError:
        return {}
    return dict(_parsed_arrivals(str(file), st.st_mtime_ns, st.st_size))


@lru_cache(maxsize=8)
def _parsed_arrivals(path: str, _mtime_ns: int, _size: int) -> tuple[tuple[str, date], ...]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader) or {}
    return tuple((str(k), v if isinstance(v, date) else date.fromisoformat(str(v))) for k, v in data.items())


def arrival_time(item: InboxFile, st: os.stat_result, arrivals: dict[str, date]) -> datetime:
    listed = arrivals.get(item.relative)
    if listed is not None:
        return datetime.combine(listed, dtime(12, 0), tzinfo=UTC)
    return datetime.fromtimestamp(st.st_mtime, tz=UTC)


def collect_milestone(
    project: Project,
    milestone: Milestone,
    *,
    inbox_root: Path,
    archive_dir: Path,
    as_of: date | None = None,
    stable_seconds: float = 1.0,
) -> list[Submission]:
    """Archive every visible file of the milestone and describe it as a Submission.

    `as_of` hides files that arrived later, so a rehearsal of 2005-2007 sees the inbox as it
    was on that day. Every participant may deliver (observers too); who *must* is the merge's
    business.
    """
    arrivals = load_arrivals(inbox_root)
    partners = [p.id for p in project.participants]
    return list(
        _submissions(
            project, list_inbox(inbox_root, partners, milestone.id), arrivals, archive_dir, as_of, stable_seconds
        )
    )


def _submissions(project, items, arrivals, archive_dir, as_of, stable_seconds) -> Iterator[Submission]:
    for item in items:
        st = wait_until_stable(item.path, stable_seconds)
        arrived = arrival_time(item, st, arrivals)
        if as_of is not None and arrived.date() > as_of:
            continue
        yield submission_for(project, item, archive_dir, arrived)


def submission_for(project: Project, item: InboxFile, archive_dir: Path | None, arrived: datetime) -> Submission:
    """Archive one inbox file and describe it: the one builder of a `Submission`. Without an
    `archive_dir` (a rehearsal, which stores nothing) the file is hashed where it lies."""
    if archive_dir is None:
        sha, size, target = file_sha256(item.path), item.path.stat().st_size, item.path
    else:
        sha, size, target = archive_file(item.path, archive_dir)
    return Submission(
        project=project.name,
        partner=item.partner,
        milestone=item.milestone,
        file_name=item.path.name,
        sha256=sha,
        size=size,
        received_at=datetime.now(UTC),
        modified_at=arrived,
        archive_path=str(target),
    )
