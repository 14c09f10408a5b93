"""What a run's log in the Prefect UI holds beyond the tasks' own lines: no empty tracebacks,
and the store's word when a run takes over a dead process's unsent e-mails.

Prefect's task engine logs a task that *returns* a Failed state (a receive with a file not
received yet) with `exc_info=True` outside any `except` block; the formatter then prints the
empty exception as a stray "NoneType: None" line under the error. `EmptyTracebackFilter` drops
that empty exception from the record before any handler (console or the API's run log) formats
it; a real traceback is untouched.

The store (`wpflow.store.issued`) says on its own logger when it takes over an e-mail claimed by
a process that died; plain Python below the tasks, it knows no run. `store_warnings_in_run_log`
copies those lines, while a task runs, into that task's run log, so the run that resends a
crashed run's e-mails says so where the secretariat looks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# the loggers Prefect's engines log a run's own lines on
PREFECT_RUN_LOGGERS = ("prefect.task_runs", "prefect.flow_runs")
STORE_LOGGER = "wpflow.store.issued"  # claims and e-mails taken over from a dead owner


class EmptyTracebackFilter(logging.Filter):
    """Clears `exc_info` when it holds no exception: `exc_info=True` with none being handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.exc_info, tuple) and record.exc_info[0] is None:
            record.exc_info = None
        return True


def drop_empty_tracebacks() -> None:
    """Idempotent. On the loggers themselves, not their handlers: Prefect's logging set-up
    (dictConfig) replaces handlers but keeps a logger's filters."""
    for name in PREFECT_RUN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, EmptyTracebackFilter) for f in logger.filters):
            logger.addFilter(EmptyTracebackFilter())


class _ToRunLog(logging.Handler):
    """Re-logs the records of this thread (the task's) on the task's run logger."""

    def __init__(self, run_logger: logging.LoggerAdapter[logging.Logger]) -> None:
        super().__init__(logging.WARNING)
        self.run_logger = run_logger
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.run_logger.log(record.levelno, record.getMessage())


@contextmanager
def store_warnings_in_run_log() -> Iterator[None]:
    """In a task run: the store's warnings (a takeover of a dead run's e-mail) also go to this
    run's log in the Prefect UI. Other threads' lines stay where they were."""
    from prefect import get_run_logger

    logger = logging.getLogger(STORE_LOGGER)
    handler = _ToRunLog(get_run_logger())  # type: ignore[arg-type]
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
