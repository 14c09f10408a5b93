"""The inbox watcher as tests run it: the real watcher in a thread on the process's settings
(`configure` / the `inbox` fixture set them), and what it leaves: submissions, outbox receipts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.uploads import put

MILESTONE = "WP4-M3"
# Every partner city but Tallinn: WP4-M3 never becomes complete, so no pipeline starts.
SENDERS = ["helsinki", "berlin-tsb", "copenhagen", "malmo", "riga", "stockholm", "st-petersburg"]


def ws():
    """The workspace of the process's settings, as the watcher's thread gets it."""
    from wpflow.workspace import workspace

    return workspace()


def outbox_files() -> list[Path]:
    """Finished outbox messages (the mailer's temp files start with a dot)."""
    folder = ws().settings.outbox_dir
    return sorted(p for p in folder.glob("*.eml") if not p.name.startswith(".")) if folder.exists() else []


def submissions() -> list:
    w = ws()
    return w.store.submissions(w.project.name)


def queued_receipts() -> list:
    w = ws()
    return w.store.queued_receipts(w.project.name)


@contextmanager
def running_watcher(receive=None, trigger=None, workers: int | None = None) -> Iterator:
    """The real watcher in a thread, stopped (and joined) however the test ends. Pipelines start
    only `WPFLOW_REPORT_DELAY_SECONDS` (default 60 s) after a milestone's last upload: the
    receiving tests end long before."""
    from wpflow.inbox.watch import InboxWatcher

    watcher = InboxWatcher(ws(), receive, trigger=trigger, **({"workers": workers} if workers else {}))
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    assert watcher.ready.wait(10), "watcher did not start"
    try:
        yield watcher
    finally:
        stop.set()
        thread.join(30)
        assert not thread.is_alive(), "watcher did not stop"


def drop(inbox: Path, partner: str, name: str, data: bytes, milestone: str = MILESTONE) -> Path:
    """A partner's upload into the watched inbox (WP4-M3 unless told)."""
    return put(inbox, partner, milestone, name, data)


def settle(extra: float = 0.6) -> None:
    """A window in which nothing more may arrive: long enough for anything still pending to have
    been received (stability window 0.3 s + margin). Not a wait for something: `wait_for` is."""
    time.sleep(extra)


def api_busy() -> Exception:
    """What Prefect's client raises when the API answers POST /api/flow_runs/ with a 503."""
    import httpx

    url = "http://127.0.0.1:4200/api/flow_runs/"
    request = httpx.Request("POST", url)
    return httpx.HTTPStatusError(
        f"Server error '503 Service Unavailable' for url '{url}'",
        request=request,
        response=httpx.Response(503, request=request),
    )
