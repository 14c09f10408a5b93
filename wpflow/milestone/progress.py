"""Milestone runs announce when they start and end, for whoever listens in this process.

`wpflow.milestone.direct_run.run_direct` and the milestone flow's run record (wpflow.milestone.run_record) announce,
whether the pipeline runs directly or as a Prefect flow here; `wpflow run --all` listens to
draw its progress (wpflow.cli.terminal). A listener that fails never fails a run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

Listener = Callable[[str, str], None]  # (milestone id, "running" | "completed" | "failed")
_listeners: list[Listener] = []


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call `listener` for every announcement while the block runs."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def announce(milestone_id: str, status: str) -> None:
    for listener in _listeners:
        try:
            listener(milestone_id, status)
        except Exception:
            log.debug("progress listener failed", exc_info=True)
