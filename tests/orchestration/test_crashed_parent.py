"""A `wpflow run --all` through Prefect killed with -9 leaves its `all-milestones` parent run (and
the milestone run it was in) "Running": the next `wpflow run` closes them as Crashed, naming the
dead process (`flows/crashed_parents.py`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from schemas.settings import ROOT, Settings
from tests.conftest import BUNDLED_PROJECT, DEMO_AS_OF
from tests.settings_env import child_env
from tests.waiting import wait_for

pytestmark = pytest.mark.system


def wpflow(args: list[str], env: dict[str, str], log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "wpflow", *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def runs_of(client, flow_name: str, **filters):
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter

    return client.read_flow_runs(
        flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])), flow_run_filter=FlowRunFilter(**filters)
    )


def test_a_parent_run_killed_with_9_is_closed_as_crashed_by_the_next_run(prefect_api, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilterId, FlowRunFilterParentFlowRunId

    from flows.crashed_parents import OWNER_LABEL
    from wpflow.store.claim_owner import Owner

    settings = Settings(
        project=BUNDLED_PROJECT, outputs=tmp_path / "outputs", report_pdf=False, stable_seconds=0, _env_file=None
    )
    env = child_env(settings, PREFECT_API_URL=prefect_api)
    log_path = tmp_path / "wpflow.log"
    with get_client(sync_client=True) as client:
        known = {r.id for r in runs_of(client, "all-milestones")}

        def running_parent_with_a_running_milestone():
            parents = [r for r in runs_of(client, "all-milestones") if r.id not in known and r.state_type == "RUNNING"]
            for parent in parents:
                children = runs_of(
                    client, "milestone-pipeline", parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent.id])
                )
                if OWNER_LABEL in parent.labels and any(c.state_type == "RUNNING" for c in children):
                    return parent, children
            return None

        with log_path.open("wb") as log:
            killed = wpflow(["run", "--all", "--as-of", DEMO_AS_OF], env, log)
            try:
                parent, children = wait_for(
                    running_parent_with_a_running_milestone,
                    what="the all-milestones run running a milestone",
                    timeout=180,
                    details=lambda: log_path.read_text(errors="replace")[-2000:],
                )
            finally:
                os.killpg(killed.pid, signal.SIGKILL)
                killed.wait(10)
        owner = Owner.parse(str(parent.labels[OWNER_LABEL]))
        assert owner is not None and owner.pid == killed.pid, "the run carries its process"
        left_running = [c.id for c in children if c.state_type == "RUNNING"]
        assert client.read_flow_run(parent.id).state_type == "RUNNING", "nothing closed it yet"

        with log_path.open("ab") as log:
            nxt = wpflow(["run", "WP1-M1", "--as-of", DEMO_AS_OF], env, log)
            assert nxt.wait(300) == 0, log_path.read_text(errors="replace")[-2000:]

        closed = client.read_flow_run(parent.id)
        assert closed.state_type == "CRASHED", closed.state
        assert f"({killed.pid} on " in (closed.state.message or "") and "died" in closed.state.message
        for run in runs_of(client, "milestone-pipeline", id=FlowRunFilterId(any_=left_running)):
            assert run.state_type == "CRASHED", (run.name, run.state)
