"""Receiving a burst in batches: many stable files, one receiving run per batch.

A flow run per upload costs the orchestrator's API a run creation and several state changes;
200 uploads at once queued behind those calls for minutes (measured: p95 148 s through
`wpflow serve`, 5.5 s on the plain path). `BatchReceiver` is the watcher's receiver instead:
each watcher thread hands over its stable file and waits; a batching thread gathers what is
waiting (lingering a moment so a burst lands in few batches) and hands the whole list to
`run_batch` — under `wpflow serve` one `receive-uploads` flow run whose tasks are the uploads.
Each waiting thread then gets its own file's outcome, so the watcher's retry queue, dedup and
bookkeeping stay exactly per file. No Prefect here: `run_batch` is injected.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from wpflow.milestone.collect import InboxFile

log = logging.getLogger("wpflow.inbox.watch")

# per file: None when received, else the exception that stopped it (the watcher defers the file)
BatchRun = Callable[[list[InboxFile]], dict[str, BaseException | None]]
LINGER_SECONDS = 0.25  # after the first file of a batch: long enough for a burst's stable files to join
MAX_BATCH = 100  # one flow run's tasks: the UI lists them comfortably
CONCURRENT_BATCHES = 2  # the next batch gathers and starts while the previous one finishes


class BatchReceiver:
    """A receiver (`InboxFile -> None`, raising the file's own error) that receives in batches."""

    def __init__(
        self,
        run_batch: BatchRun,
        *,
        linger: float = LINGER_SECONDS,
        max_batch: int = MAX_BATCH,
        concurrent: int = CONCURRENT_BATCHES,
    ) -> None:
        self.run_batch = run_batch
        self.linger = linger
        self.max_batch = max_batch
        self._pending: list[tuple[InboxFile, Future[None]]] = []
        self._cond = threading.Condition()
        self._slots = threading.Semaphore(concurrent)
        self._pool = ThreadPoolExecutor(concurrent, thread_name_prefix="wpflow-batch")
        self._closed = False
        self._thread = threading.Thread(target=self._gather, name="wpflow-batcher", daemon=True)
        self._thread.start()

    def __call__(self, item: InboxFile) -> None:
        """Queue the file for the next batch and wait for its outcome."""
        done: Future[None] = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("the batch receiver is closed")
            self._pending.append((item, done))
            self._cond.notify()
        done.result()

    def close(self) -> None:
        """Fail what is still waiting (the watcher defers it; the next start receives it) and
        stop gathering; batches in flight finish."""
        with self._cond:
            self._closed = True
            pending, self._pending = self._pending, []
            self._cond.notify()
        for _, done in pending:
            done.set_exception(RuntimeError("the watcher stopped before this file's batch ran"))
        self._pool.shutdown(wait=False)

    def _gather(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
            time.sleep(self.linger)  # let the rest of a burst become stable and join
            self._slots.acquire()  # at most `concurrent` batches in flight
            with self._cond:
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            if not batch:
                self._slots.release()
                continue
            try:
                self._pool.submit(self._run, batch)
            except RuntimeError:  # closed meanwhile
                self._slots.release()
                for _, done in batch:
                    done.set_exception(RuntimeError("the watcher stopped before this file's batch ran"))
                return

    def _run(self, batch: list[tuple[InboxFile, Future[None]]]) -> None:
        try:
            try:
                outcomes = self.run_batch([item for item, _ in batch])
            except Exception as exc:  # the batch itself failed (API down): every file is deferred
                log.warning("a batch of %d upload(s) could not run: %s", len(batch), exc)
                outcomes = {item.relative: exc for item, _ in batch}
            for item, done in batch:
                error = outcomes.get(item.relative, RuntimeError("the batch ended without this file's outcome"))
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(error)
        finally:
            self._slots.release()
