"""The milestone pipeline's fan-out on a Dask cluster, through prefect-dask.

Safe because a task needs nothing but its arguments (a project value, a milestone id, a partner,
`Submission`s: all pickle) and its process's environment: each Dask worker builds its own
`Workspace` from them (wpflow/workspace.py) and writes to the same store, archive and outputs
folders as the flow. Chosen by `tasks.task_runners` when WPFLOW_DASK_ADDRESS is set. Importing
it starts nothing: a LocalCluster is started at its first use, and its stop at exit registered then.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from distributed import LocalCluster
from prefect.context import FlowRunContext
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect_dask import DaskTaskRunner
from prefect_dask.client import PrefectDaskClient

from schemas.settings import Settings
from wpflow.workspace import settings_key

LOCAL = "local"


class WpflowDaskTaskRunner(DaskTaskRunner):
    """prefect-dask's runner on an existing scheduler, or on this process's own LocalCluster for
    `local` — started at the first fan-out, not per flow run (9-26 s for two worker processes on the
    shared 2-core machine),
    and never inside a Dask worker, where Prefect enters a copy of the flow's runner too."""

    def __init__(self, dask_address: str) -> None:
        super().__init__(address=None if dask_address == LOCAL else dask_address)
        self.dask_address = dask_address

    def duplicate(self) -> WpflowDaskTaskRunner:
        return type(self)(self.dask_address)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WpflowDaskTaskRunner) and other.dask_address == self.dask_address

    @property
    def client(self) -> PrefectDaskClient:
        if self._client is None and self.dask_address == LOCAL:
            self.address = local_cluster_address()
        return super().client

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        with api_for_workers():
            return super().submit(*args, **kwargs)

    def map(self, *args: Any, **kwargs: Any) -> Any:
        with api_for_workers():  # once for all the map's submits: a settings copy costs ~0.1 s
            return super().map(*args, **kwargs)


@contextmanager
def api_for_workers() -> Iterator[None]:
    """Ship the API this flow run reports to with each task's context. A process on Prefect's
    ephemeral API has no PREFECT_API_URL: its Dask workers would each start an ephemeral server
    of their own on the same database (seconds each, and SQLite writers fighting), so they are
    given the URL of the one the flow run already uses."""
    context = FlowRunContext.get()
    if PREFECT_API_URL.value() or context is None or context.client is None:
        yield
        return
    with temporary_settings({PREFECT_API_URL: str(context.client.api_url)}):
        yield


_CLUSTERS: dict[str, LocalCluster] = {}  # at most one: this process's settings → its cluster
_CLUSTERS_LOCK = threading.Lock()  # concurrent flow runs in one process start one cluster
_CLOSED_AT_EXIT: list[bool] = []  # [True] once the exit hook is registered: once per process


def local_cluster_address(settings: Settings | None = None) -> str:
    """The scheduler of this process's LocalCluster: `dask_workers` processes of one thread each,
    started at first use and closed at exit. The worker processes inherit this process's
    environment as it is when they start, so they read the same WPFLOW_* settings; if those
    changed since (a test, a benchmark), the cluster is replaced rather than left writing to the
    old outputs and database."""
    settings = settings or Settings()
    key = settings_key(settings)
    with _CLUSTERS_LOCK:
        if key not in _CLUSTERS:
            close_local_cluster_locked()
            if not _CLOSED_AT_EXIT:
                atexit.register(close_local_cluster)
                _CLOSED_AT_EXIT.append(True)
            # a random port for its HTTP server (the dashboard, if bokeh is installed): a fixed one clashes
            _CLUSTERS[key] = LocalCluster(
                processes=True, n_workers=settings.dask_workers, threads_per_worker=1, dashboard_address=":0"
            )
        return str(_CLUSTERS[key].scheduler_address)


def close_local_cluster() -> None:
    """Stop this process's LocalCluster, if it started one (at exit; a test that is done with it)."""
    with _CLUSTERS_LOCK:
        close_local_cluster_locked()


def close_local_cluster_locked() -> None:
    while _CLUSTERS:
        _, cluster = _CLUSTERS.popitem()
        cluster.close()
