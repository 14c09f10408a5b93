"""Starting a milestone pipeline from the watcher or the daily ladder: the served deployment
when there is one (`run_deployment`, returning at once), the flow in this process otherwise.
Either way the run gets its project as a parameter, and finds its project's deployment.

It holds no flow, and stays a module of its own beside them: how a run is started — which
deployment names a project's milestone, whether one is served, the heartbeat off for runs
watched by whoever started them — is shared by the watcher's and the ladder's flows, by the
commands (`without_heartbeat`) and by `orchestration.deployments` (`deployment_name`), none of
which needs the milestone flow's module; folded into flows/milestone.py, each would import the
pipeline, its tasks and their stages to learn a name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from typing import Any, cast

from schemas.records import ReportOutcome
from wpflow.schedule.chase import PipelineStarter
from wpflow.workspace import slug_of

MILESTONE_FLOW = "milestone-pipeline"


def deployment_name(project: str, what: str) -> str:
    """`baltmet-inno-wp4-m3`: a deployment per project and milestone (or ladder, report, inbox),
    lower case as in the UI and URLs; the project's slug first, since a deployment name cannot
    hold the '/' of `baltmet-inno/WP4-M3`."""
    return f"{slug_of(project)}-{what.lower()}"


def start_deployment_run(milestone_id: str, as_of: date | None, project: str) -> str:
    """Ask the server for a run of the milestone's deployment and return at once (timeout=0):
    a receipt or the daily ladder must not wait for a report to render."""
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    parameters: dict[str, Any] = {"milestone_id": milestone_id, "project": project}
    if as_of is not None:
        parameters["as_of"] = as_of.isoformat()
    run = run_deployment(
        f"{MILESTONE_FLOW}/{deployment_name(project, milestone_id)}",
        parameters=parameters,
        timeout=0,
        as_subflow=False,
    )
    if not isinstance(run, FlowRun):  # Prefect's type allows a coroutine: called from async code
        raise TypeError("start_deployment_run is for synchronous callers")
    return str(run.id)


@contextmanager
def without_heartbeat() -> Iterator[None]:
    """Flow runs started in this block send no heartbeat: a run in this process is watched by
    whoever started it (`wpflow run`, `wpflow deadlines`, the watcher, an in-process start), and
    the heartbeat — crash detection for long deployed runs — adds ~1 s per run at exit."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def start_in_process(milestone_id: str, as_of: date | None, project: str) -> str:
    """Run the milestone flow here (no deployment is served), without a heartbeat."""
    from flows.milestone import milestone_pipeline

    with without_heartbeat():
        outcome = cast(ReportOutcome, milestone_pipeline(milestone_id, as_of, project))  # the caller gets the result
    return outcome.report.path if outcome.report else outcome.message


def deployment_served(milestone_id: str, project: str) -> bool:
    """True when the project's deployment of the milestone exists on the configured API (ephemeral APIs have
    none, so nothing is looked up there)."""
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        return False
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            client.read_deployment_by_name(f"{MILESTONE_FLOW}/{deployment_name(project, milestone_id)}")
        return True
    except ObjectNotFound:
        return False


def start_pipeline(milestone_id: str, as_of: date | None, project: str) -> str | None:
    """run_deployment when the milestone is deployed, the flow in-process otherwise."""
    if deployment_served(milestone_id, project):
        return start_deployment_run(milestone_id, as_of, project)
    return start_in_process(milestone_id, as_of, project)


def pipeline_starter(project: str) -> PipelineStarter:
    """`start_pipeline` for one project: what the watcher and the daily ladder are given."""
    return partial(start_pipeline, project=project)
