"""Where a milestone run's fan-out runs: threads of its own process, or a Dask cluster.

Only what a flow submits goes to its task runner — in the milestone pipeline, validation's one
`validate_batch` run per partner batch; every other stage runs in the flow's own thread.
`WPFLOW_DASK_ADDRESS` picks the runner when a run starts (`PipelineTaskRunner`), never when a
module is imported: a worker's flow-run process, `wpflow run` and a test each run with their own
settings. Dask and prefect-dask are imported only then: they add about a second to every
process's start. Threads are the default because they were faster: at 500 partners a task run
submitted through prefect-dask cost ~0.5 s, more than validating a partner's files
(bench/bench_dask.py, docs/performance.md).
"""

from __future__ import annotations

from typing import Any, Self

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from schemas.settings import Settings


def pipeline_task_runner(settings: Settings | None = None) -> TaskRunner[Any]:
    """The runner `settings.dask_address` names (default: this process's settings, read now)."""
    address = (settings or Settings()).dask_address
    if address is None:
        return ThreadPoolTaskRunner()
    from tasks.dask_runner import WpflowDaskTaskRunner

    return WpflowDaskTaskRunner(address)


class PipelineTaskRunner(TaskRunner[Any]):
    """The milestone flow's runner: Prefect duplicates a flow's runner as each run starts, and
    the duplicate holds the runner `pipeline_task_runner` chooses then, to which it hands
    everything. The flow's own instance (chosen nothing) only stands for it."""

    def __init__(self, chosen: TaskRunner[Any] | None = None) -> None:
        self.chosen = chosen  # before TaskRunner's __init__, which names its logger by `name`
        super().__init__()

    @property
    def name(self) -> str:
        return self.chosen.name if self.chosen is not None else super().name

    def duplicate(self) -> Self:
        return type(self)(pipeline_task_runner())

    def _runner(self) -> TaskRunner[Any]:
        if self.chosen is None:
            raise RuntimeError("PipelineTaskRunner chooses its runner when a run starts: use its duplicate()")
        return self.chosen

    def __enter__(self) -> Self:
        self._runner().__enter__()
        super().__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            self._runner().__exit__(*exc_info)
        finally:
            super().__exit__(*exc_info)

    def submit(self, *args: Any, **kwargs: Any) -> Any:  # handed on as given
        return self._runner().submit(*args, **kwargs)

    def map(self, *args: Any, **kwargs: Any) -> Any:  # handed on as given
        return self._runner().map(*args, **kwargs)

    def cancel_all(self) -> None:
        cancel = getattr(self.chosen, "cancel_all", None)
        if cancel is not None:
            cancel()
