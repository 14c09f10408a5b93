"""Where a milestone run's fan-out runs: threads of its own process, or a Dask cluster.

Only what a flow submits goes to its task runner — in the milestone pipeline, validation's one
`validate_partner` run per partner batch; every other stage runs in the flow's own thread.
`WPFLOW_DASK_ADDRESS` picks the runner, read once per process like every setting. Dask and
prefect-dask are imported only then: they add about a second to every process's start.
Threads are the default because they were faster: at 500 partners a task run submitted through
prefect-dask cost ~0.5 s, more than validating a partner's files (bench/bench_dask.py,
docs/performance.md).
"""

from __future__ import annotations

from typing import Any

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from schemas.settings import Settings


def pipeline_task_runner(settings: Settings | None = None) -> TaskRunner[Any]:
    """The runner `settings.dask_address` names (default: this process's settings)."""
    address = (settings or Settings()).dask_address
    if address is None:
        return ThreadPoolTaskRunner()
    from orchestration.dask_runner import WpflowDaskTaskRunner

    return WpflowDaskTaskRunner(address)
