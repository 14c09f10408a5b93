"""The inbox watcher: each file a partner drops becomes a receipt within about two seconds.

Folders are `<inbox>/<partner-id>/<milestone-id>/`; the folder a file lies in says who sent it
for what. The watcher (watchfiles: inotify on Linux) hears about new and changed files, waits
until each one is *stable* (`Settings.stable_seconds` without a change, see
`wpflow.milestone.collect.wait_until_stable`) and hands it to a receiver: archive by hash → validate →
store → receipt, then start the milestone pipeline once its required inputs are all valid.

A file whose receipt fails (SMTP down, the Prefect API answering 503) goes to a retry queue in
the store with exponential backoff (`Settings.receipt_retry_seconds` doubling up to
`receipt_retry_max_seconds`); a restart resumes it. Every `Settings.rescan_seconds` the whole
inbox is scanned again for files the events missed. No file waits for a restart.

The receiver is pluggable: `receive_file` (`wpflow.inbox.receive`) is the plain path (no Prefect: tests' bulk
cases, benchmarks); `flows.watcher.receive_upload_run` wraps the same steps as one Prefect flow
run per upload. On start the watcher scans the inbox for files that arrived while it was down;
that is idempotent because the store keeps one submission per distinct bytes and receipts are
keyed by hash.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from wpflow.file_names import shown_name
from wpflow.files import special_kind
from wpflow.inbox.receive import (  # noqa: F401 - re-exported: the watcher's receiving path
    already_received,
    archive_upload,
    check_upload,
    receive_file,
    send_upload_receipt,
    trigger_if_due,
    warm_up,
)
from wpflow.milestone.collect import InboxFile, archive_file, is_ignored, wait_until_stable
from wpflow.workspace import Workspace

log = logging.getLogger(__name__)

Receiver = Callable[[InboxFile], object]
Trigger = Callable[[str], object]  # a milestone id: start its pipeline if the release rule says so
# A slow upload blocks only the worker waiting for it; eight let a burst of files and a few
# slow uploads proceed side by side while SQLite's single writer stays the bottleneck.
DEFAULT_WORKERS = 8


class Rejected(Exception):
    """A file that is not a submission; the message says why (it goes to the log)."""


# -- where a file belongs ----------------------------------------------------------------
def locate(ws: Workspace, path: Path) -> InboxFile:
    """The partner and milestone of an inbox file, from the folders it lies in.

    Symlinks are never followed — not as the file, nor as a partner or milestone folder: a
    link can point anywhere on the machine (another partner's folder, /etc), and only what lies
    in a partner's own folder is vouched for by that partner. Raises `Rejected` saying why.
    """
    root = ws.settings.inbox_root.resolve()
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        raise Rejected(f"outside the inbox {root}") from None
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise Rejected(
                f"{current.relative_to(root)} is a symlink{link_target(current, root)}; links are never followed"
            )
    if (kind := special_kind(path)) is not None:  # opening a FIFO would hold a watcher thread for good
        raise Rejected(f"it is {kind}, not a file; only files are received")
    if len(parts) != 3:
        raise Rejected("not in a <partner>/<milestone>/ folder")
    partner, milestone_id, _ = parts
    try:
        ws.project.participant(partner)
    except KeyError:
        raise Rejected(f"{partner!r} is not a partner id of {ws.project.name}") from None
    try:
        milestone = ws.project.milestone(milestone_id)
    except KeyError:
        raise Rejected(f"{milestone_id!r} is not a milestone of {ws.project.name}") from None
    if milestone.id != milestone_id:  # the pipeline's collect looks for the exact folder name
        raise Rejected(f"the milestone folder must be named {milestone.id!r}")
    return InboxFile(partner, milestone.id, path)


def link_target(link: Path, root: Path) -> str:
    """` pointing outside the inbox (/etc/passwd)` — read with readlink, never opened."""
    target = (link.parent / os.readlink(link)).resolve()
    return "" if target.is_relative_to(root) else f" pointing outside the inbox ({target})"


def archive_rejected(ws: Workspace, path: Path, reason: str) -> str | None:
    """Keep a rejected regular file's bytes (nothing a partner sent is lost) and log why it
    was refused. Symlinks are not archived: that would mean following them."""
    root = ws.settings.inbox_root.resolve()
    shown = shown_name(path.relative_to(root) if path.is_relative_to(root) else path)
    if path.is_symlink() or not path.is_file():
        log.warning("rejected %s: %s", shown, reason)
        return None
    wait_until_stable(path, ws.settings.stable_seconds)
    sha, _, _ = archive_file(path, ws.settings.archive_dir)
    log.warning("rejected %s: %s (archived as %s)", shown, reason, sha)
    return sha


# -- the watcher -------------------------------------------------------------------------
class InboxWatcher:
    """Watches the inbox and hands each stable file to `receive` on a small thread pool.

    The watch loop itself never blocks on a file: it only dispatches. A path already being
    handled is marked dirty instead of dispatched twice, and handled again when the first pass
    is done — a file rewritten while it was being read becomes a new version, never half of one.
    """

    def __init__(
        self,
        ws: Workspace,
        receive: Receiver | None = None,
        *,
        trigger: Trigger | None = None,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self.ws = ws
        self.root = ws.settings.inbox_root.resolve()
        self.receive = receive or (lambda item: receive_file(ws, item))
        self.trigger = trigger or (lambda milestone_id: trigger_if_due(ws, milestone_id))
        self.workers = workers
        self._quiet_until: dict[str, float] = {}  # milestone → when its pipeline may be started
        self._lock = threading.Lock()
        self._busy: set[Path] = set()
        self._dirty: set[Path] = set()
        self._done: dict[Path, tuple[int, int]] = {}  # path → (size, mtime) last received or rejected
        self._pool: ThreadPoolExecutor | None = None
        self._stop = threading.Event()
        self._next_rescan = 0.0  # monotonic time of the next periodic rescan
        self._queued: set[str] = set()  # inbox-relative paths in the store's retry queue
        self.ready = threading.Event()  # set once the start-up scan is dispatched and watching began

    # public ------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Scan, then watch until `stop` is set; waits for files in hand before returning."""
        import watchfiles

        self._stop = stop
        self.root.mkdir(parents=True, exist_ok=True)
        warm_up(self.ws)
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="wpflow-receive")
        self._pool = pool
        try:
            watching = watchfiles.watch(
                self.root,
                watch_filter=self.wanted,
                stop_event=stop,
                debounce=200,
                step=20,
                rust_timeout=500,
                yield_on_timeout=True,
                raise_interrupt=False,
            )
            # the scan comes after the watch is set up so a file landing in between is seen
            # by one or the other (both is harmless: the second pass finds the same bytes)
            first = next(watching, set())
            self._queued = {r.path for r in self.ws.store.queued_receipts(self.ws.project.name)}
            self.scan()
            self._next_rescan = time.monotonic() + self.ws.settings.rescan_seconds
            self.ready.set()
            self.dispatch_changes(first)
            for changes in watching:  # at least every 0.5 s (rust_timeout), changes or not
                self.dispatch_changes(changes)
                self.retry_due()
                self.rescan_if_due()
                self.start_quiet_milestones()
        finally:
            self.ready.set()
            self._pool = None
            # on a stop, files queued but not started are dropped: the next start's scan finds them
            pool.shutdown(wait=True, cancel_futures=stop.is_set())
        log.info("inbox watcher stopped")

    def scan(self, folder: Path | None = None, *, unseen_only: bool = False) -> int:
        """Dispatch every file already in the inbox (what arrived while we were down); with
        `unseen_only`, only files whose size or mtime differ from what was last handled."""
        count = 0
        for dirpath, dirnames, filenames in os.walk(folder or self.root):  # os.walk does not follow links
            for name in filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
                path = Path(dirpath) / name
                if self.wanted(None, str(path)) and not (unseen_only and self.seen(path)):
                    self.dispatch(path)
                    count += 1
        (log.debug if folder else log.info)("inbox scan: %d file(s) in %s", count, folder or self.root)
        return count

    @staticmethod
    def wanted(change: object, path: str) -> bool:
        """Editor lock files, partial downloads, hidden files and arrivals.yaml are never read."""
        from watchfiles import Change

        return change != Change.deleted and not is_ignored(os.path.basename(path))

    def seen(self, path: Path) -> bool:
        try:
            st = path.lstat()
        except FileNotFoundError:
            return True
        return self._done.get(path) == (st.st_size, st.st_mtime_ns)

    def rescan_if_due(self) -> None:
        """Every `rescan_seconds`: files the events missed are received without a restart."""
        if time.monotonic() < self._next_rescan or self._stop.is_set():
            return
        self._next_rescan = time.monotonic() + self.ws.settings.rescan_seconds
        count = self.scan(unseen_only=True)
        if count:
            log.info("periodic rescan: %d file(s) not received yet", count)

    def retry_due(self) -> None:
        """Dispatch the queued files whose backoff is over (the queue lives in the store, so a
        restart resumes it); a file gone from the inbox leaves the queue."""
        project = self.ws.project.name
        for retry in self.ws.store.due_receipts(project):
            path = self.root / retry.path
            if not os.path.lexists(path):
                log.warning("%s left the inbox before its receipt could be sent", retry.path)
                self.ws.store.clear_receipt_retry(project, retry.path)
                continue
            with self._lock:
                busy = path in self._busy
            if not busy:
                self.dispatch(path)

    def defer(self, path: Path, exc: Exception) -> None:
        """Queue a failed file for a retry with backoff; the first failure logs the traceback."""
        settings = self.ws.settings
        relative = path.relative_to(self.root).as_posix()
        self._queued.add(relative)
        retry = self.ws.store.defer_receipt(
            self.ws.project.name,
            relative,
            f"{type(exc).__name__}: {exc}",
            first=settings.receipt_retry_seconds,
            cap=settings.receipt_retry_max_seconds,
        )
        if retry.attempts == 1:
            log.error(
                "could not receive %s; retrying in %.0f s",
                relative,
                (retry.due_at - retry.first_failed_at).total_seconds(),
            )
        else:
            log.warning(
                "could not receive %s (attempt %d): %s; retrying at %s",
                relative,
                retry.attempts,
                retry.last_error,
                retry.due_at.strftime("%H:%M:%S"),
            )

    # internals ---------------------------------------------------------------------------
    def dispatch_changes(self, changes: set) -> None:
        for _, raw in sorted(changes, key=lambda c: c[1]):
            path = Path(raw)
            if path.is_symlink() or path.is_file():
                self.dispatch(path)
            elif path.is_dir():  # a folder copied in whole: files may predate the folder's watch
                self.scan(path)

    def dispatch(self, path: Path) -> None:
        with self._lock:
            if path in self._busy:
                self._dirty.add(path)
                return
            self._busy.add(path)
        assert self._pool is not None
        self._pool.submit(self._handle, path)

    def _handle(self, path: Path) -> None:
        while True:
            try:
                self._handle_once(path)
            except Exception as exc:
                try:
                    self.defer(path, exc)
                except Exception:  # the store itself is down: the periodic rescan catches it up
                    log.exception("could not receive %s nor queue it for a retry", shown_name(path))
            with self._lock:
                if path not in self._dirty or self._stop.is_set():
                    self._busy.discard(path)
                    self._dirty.discard(path)
                    return
                self._dirty.discard(path)

    def _handle_once(self, path: Path) -> None:
        """Locate, wait until stable, receive — unless this very version was handled already
        (a burst of events for one write, a restart's scan of files received before)."""
        try:
            item = locate(self.ws, path)
        except Rejected as why:
            st = path.lstat()
            if self._done.get(path) != (st.st_size, st.st_mtime_ns):  # one log line per version
                archive_rejected(self.ws, path, str(why))
                st = path.lstat()
                self._done[path] = (st.st_size, st.st_mtime_ns)
            return
        while True:
            try:
                st = wait_until_stable(path, self.ws.settings.stable_seconds)
                break
            except FileNotFoundError:  # renamed or removed before it was complete (a .part → final rename)
                return
            except TimeoutError:  # a long upload: keep waiting unless we are shutting down
                if self._stop.is_set():
                    return
        version = (st.st_size, st.st_mtime_ns)
        if self._done.get(path) == version:
            return
        if already_received(self.ws, item):
            log.debug("%s: these bytes were received and acknowledged before", shown_name(item.relative))
        else:
            self.receive(item)
        self._done[path] = version
        relative = path.relative_to(self.root).as_posix()
        if relative in self._queued:  # received at last: out of the retry queue
            self.ws.store.clear_receipt_retry(self.ws.project.name, relative)
            self._queued.discard(relative)
        self.note_upload(item.milestone)  # also for a restart's scan: a start it missed happens now

    def note_upload(self, milestone_id: str) -> None:
        """(Re)start the milestone's quiet timer: its pipeline starts once no file has arrived
        for `report_delay_seconds`, so a burst of uploads gives one report version."""
        with self._lock:
            self._quiet_until[milestone_id] = time.monotonic() + self.ws.settings.report_delay_seconds

    def start_quiet_milestones(self) -> None:
        """Hand every milestone whose quiet time is over to `trigger` (on the pool: the watch loop
        never blocks). `trigger` decides whether the release rule calls for a run; it runs at
        most once per content of the inputs. Timers still pending at a stop are dropped: the
        next start's scan and the daily ladder catch them up."""
        now = time.monotonic()
        with self._lock:
            due = [m for m, at in self._quiet_until.items() if at <= now and not self._stop.is_set()]
            for milestone_id in due:
                del self._quiet_until[milestone_id]
        for milestone_id in due:
            assert self._pool is not None
            self._pool.submit(self._trigger, milestone_id)

    def _trigger(self, milestone_id: str) -> None:
        try:
            self.trigger(milestone_id)
        except Exception:
            log.exception("%s: could not start the pipeline; the daily ladder will", milestone_id)
