"""Deployments: prefect.yaml stays generated from the project, every entrypoint loads, and
`wpflow serve` against a real Prefect server runs a milestone deployment end to end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from schemas.settings import ROOT, Settings
from tests.conftest import parse_eml
from tests.orchestration.run_states import ran_to_the_end
from tests.orchestration.serving import SERVE_APP, serving_prefect_server
from tests.uploads import put, seed_csv
from tests.waiting import wait_for

BUNDLED_REF = "projects/baltmet-inno"  # the bundled project as a deployment's `project` parameter


# -- prefect.yaml and entrypoints -----------------------------------------------------------
def checkout_projects() -> list:
    """(project, its `project` value) for every project of the checkout's projects/."""
    from wpflow.project.installation import installation_projects
    from wpflow.workspace import project_ref

    return [(project, project_ref(folder)) for folder, project in installation_projects(Settings(_env_file=None))]


def test_committed_prefect_yaml_is_generated_from_the_projects():
    from orchestration.deployments import PREFECT_YAML, render_prefect_yaml

    assert PREFECT_YAML.read_text(encoding="utf-8") == render_prefect_yaml(checkout_projects()), (
        "prefect.yaml is out of date: run `wpflow deploy --write`"
    )


def test_prefect_yaml_declares_every_deployment_in_prefects_own_schema(project):
    from prefect.cli.deploy._models import PrefectYamlModel

    from orchestration.deployments import PREFECT_YAML

    config = PrefectYamlModel.model_validate(yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8")))
    by_name = {d.name: d for d in config.deployments}
    milestones = [
        d
        for d in config.deployments
        if d.entrypoint == "flows/milestone.py:milestone_pipeline" and d.parameters["project"] == BUNDLED_REF
    ]
    assert [(d.name, d.parameters) for d in milestones] == [
        (f"baltmet-inno-{m.id.lower()}", {"milestone_id": m.id, "project": BUNDLED_REF}) for m in project.milestones()
    ]
    refs = [ref for _, ref in checkout_projects()]
    assert all(ref.startswith("projects/") for ref in refs)  # no machine's path
    assert {d.parameters.get("project") for d in config.deployments} == {*refs, None}  # None: the daily ladder
    assert all(d.enforce_parameter_schema for d in config.deployments)
    daily = by_name["daily"]  # one for every project
    assert daily.entrypoint == "flows/deadlines.py:deadline_ladder" and daily.parameters == {"projects": refs}
    assert [(s.cron, s.timezone) for s in daily.schedules] == [("0 7 * * *", "Europe/Helsinki")]
    assert by_name["baltmet-inno-inbox"].entrypoint == "flows/watcher.py:inbox_watcher"
    assert all(d.tags[:1] == ["baltmet-inno"] for d in milestones)


@pytest.mark.parametrize(
    "entrypoint",
    sorted(
        {
            "flows/milestone.py:milestone_pipeline",
            "flows/deadlines.py:deadline_ladder",
            "flows/deadlines.py:project_deadlines",
            "flows/watcher.py:inbox_watcher",
            "flows/watcher.py:receive_uploads",
            "flows/final_report.py:wp_final_report",
            "flows/final_report.py:final_report",
        }
    ),
)
def test_every_entrypoint_loads_as_a_flow_with_a_parameter_schema(project, entrypoint):
    from prefect import Flow
    from prefect.flows import load_flow_from_entrypoint
    from prefect.utilities.callables import parameter_schema

    from orchestration.deployments import installation_specs

    path, _, name = entrypoint.partition(":")
    flow = load_flow_from_entrypoint(f"{ROOT / path}:{name}")
    assert isinstance(flow, Flow)
    schema = parameter_schema(flow)
    for spec in installation_specs(checkout_projects()):
        if spec.entrypoint == entrypoint:
            assert set(spec.parameters) <= set(schema.properties)
            assert set(schema.required or []) <= set(spec.parameters), f"{spec.name} lacks required parameters"
            flow.validate_parameters(dict(spec.parameters))


def test_deploy_check_fails_when_prefect_yaml_drifts(tmp_path):
    import typer
    from typer.testing import CliRunner

    from wpflow.cli.ops import deploy_command

    app = typer.Typer()
    app.command("deploy")(deploy_command)
    app.command("noop")(lambda: None)
    target = tmp_path / "prefect.yaml"
    assert CliRunner().invoke(app, ["deploy", "--check", "--file", str(target)]).exit_code == 1
    assert CliRunner().invoke(app, ["deploy", "--write", "--file", str(target)]).exit_code == 0
    assert CliRunner().invoke(app, ["deploy", "--check", "--file", str(target)]).exit_code == 0


# -- a real server ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def prefect_server_url(tmp_path_factory, prefect_database):
    """A Prefect server of this module's own (`tests.orchestration.serving`)."""
    with serving_prefect_server(tmp_path_factory.mktemp("prefect-server-home"), prefect_database) as api_url:
        yield api_url


@pytest.mark.system
@pytest.mark.prefect_server
def test_serve_runs_a_milestone_deployment_and_the_watcher(prefect_server_url, tmp_path, other_project):
    """`wpflow serve` of an installation of two projects: BaltMet Inno (its inbox WPFLOW_INBOX)
    and Other Inno beside it (WPFLOW_PROJECTS, its own inbox): each project's deployments, one
    daily ladder for both, a watcher per inbox."""
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterId
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api = prefect_server_url
    # the UI asks the server where its API is; on a port other than 4200 that must be this one
    ui_settings = httpx.get(api.removesuffix("/api") + "/ui-settings", timeout=5).json()
    assert ui_settings["api_url"] == api

    inbox, outputs = tmp_path / "inbox", tmp_path / "outputs"
    for partner in ("helsinki", "malmo"):
        path = inbox / partner / "WP4-M3" / f"seed_funding_{partner}.csv"
        path.parent.mkdir(parents=True)
        path.write_bytes(seed_csv(f"{partner} seed fund"))
    # they arrived before the due date (the run below looks at the inbox as of 2006-07-31)
    (inbox / "arrivals.yaml").write_text(
        "helsinki/WP4-M3/seed_funding_helsinki.csv: 2006-06-20\nmalmo/WP4-M3/seed_funding_malmo.csv: 2006-06-21\n"
    )
    from orchestration.serve import free_port

    reports_port = free_port()
    env = {
        **os.environ,
        "PREFECT_API_URL": api,
        "PREFECT_UI_API_URL": api,
        "PREFECT_HOME": str(tmp_path / "home"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",  # the runner looks for scheduled runs every second, not 10
        "WPFLOW_OUTPUTS": str(outputs),
        "WPFLOW_PROJECT": str(ROOT / BUNDLED_REF),
        "WPFLOW_PROJECTS": str(other_project.parent),
        "WPFLOW_INBOX": str(inbox),
        "WPFLOW_STABLE_SECONDS": "0.3",
        "WPFLOW_REPORT_DELAY_SECONDS": "1",
        "WPFLOW_REPORTS_PORT": str(reports_port),
    }
    log = (tmp_path / "serve.log").open("wb")
    # started as `cmd &` from a script would start it: SIGINT inherited as ignored (serve must
    # still stop on Ctrl-C, see orchestration.serve.serve_until_signalled)
    served = subprocess.Popen(
        [sys.executable, "-c", SERVE_APP, "serve", "--milestone", "WP4-M3"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:

            def deployment(name):
                try:
                    return client.read_deployment_by_name(name)
                except ObjectNotFound:
                    return None

            served_deployment = wait_for(
                lambda: deployment("milestone-pipeline/baltmet-inno-wp4-m3"),
                timeout=60,
                interval=0.5,
                what="the WP4-M3 deployment",
            )
            assert served_deployment.parameters == {"milestone_id": "WP4-M3", "project": BUNDLED_REF}
            assert served_deployment.enforce_parameter_schema
            assert "baltmet-inno" in served_deployment.tags
            other = wait_for(
                lambda: deployment("milestone-pipeline/other-inno-wp4-m3"),
                timeout=30,
                interval=0.5,
                what="the other WP4-M3",
            )
            assert other.parameters == {"milestone_id": "WP4-M3", "project": str(other_project)}
            daily = wait_for(
                lambda: deployment("deadline-ladder/daily"), timeout=30, interval=0.5, what="the daily deployment"
            )
            assert [(s.schedule.cron, s.schedule.timezone) for s in daily.schedules] == [
                ("0 7 * * *", "Europe/Helsinki")
            ]
            assert daily.parameters == {"projects": [BUNDLED_REF, str(other_project)]}  # one ladder for both

            run = run_deployment(
                "milestone-pipeline/baltmet-inno-wp4-m3",
                parameters={"milestone_id": "WP4-M3", "as_of": "2006-07-31"},
                timeout=120,
                poll_interval=1,
            )
            # Berlin, Copenhagen and others are missing as of 2006-07-31: the run ends "Incomplete",
            # grey in the UI (its Completed state moves on to that a moment after it ended)
            run = wait_for(
                lambda: client.read_flow_run(run.id),
                until=lambda r: r.state is not None and r.state.name == "Incomplete" and r.state.is_cancelled(),
                timeout=30,
                interval=0.5,
                what="WP4-M3's Incomplete state",
            )
            assert run.name == "baltmet-inno · WP4-M3 · due 2006-06-30 · as of 2006-07-31"
            artifacts = {
                a.key: a
                for a in client.read_artifacts(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
            }
            assert {"baltmet-inno-wp4-m3-status", "baltmet-inno-wp4-m3-summary", "baltmet-inno-wp4-m3-report"} <= set(
                artifacts
            )
            assert artifacts["baltmet-inno-wp4-m3-status"].type == "table"
            assert "Helsinki" in str(artifacts["baltmet-inno-wp4-m3-status"].data) and "missing" in str(
                artifacts["baltmet-inno-wp4-m3-status"].data
            )
            assert (
                artifacts["baltmet-inno-wp4-m3-summary"].type == "markdown"
                and "# WP4-M3" in artifacts["baltmet-inno-wp4-m3-summary"].data
            )
            # a link artifact is stored as markdown; serve's reports server answers it, not file://.
            # v1 whether this run or the watcher's (Helsinki and Malmö at start-up) issued it
            link = artifacts["baltmet-inno-wp4-m3-report"].data
            url = f"http://127.0.0.1:{reports_port}/baltmet-inno/history/WP4-M3.v1.docx"
            assert link == f"[WP4-M3.v1.docx]({url})", link
            # the run that did not hold the claim on v1 links to it as its holder renders it
            served_v1 = wait_for(
                lambda: httpx.get(url, timeout=10),
                until=lambda r: r.status_code == 200,
                timeout=60,
                interval=0.5,
                what="v1 over the reports server",
            )
            assert (
                served_v1.content == (outputs / "reports" / "baltmet-inno" / "history" / "WP4-M3.v1.docx").read_bytes()
            )

            # the watcher thread of the same process: a receive-uploads run for the new file
            new = inbox / "riga" / "WP4-M3" / "seed_funding_riga.csv"
            new.parent.mkdir(parents=True)
            new.write_bytes(seed_csv("Riga seed fund", "about 2 mio"))

            # and the other project's watcher, its own inbox: a run named for it, a receipt from its outbox
            put(other_project / "inbox", "riga", "WP4-M3", "seed_funding_riga.csv", seed_csv("Riga other fund"))

            def riga_run(slug):
                runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["receive-uploads"])))
                return [r for r in runs if r.name == f"{slug} · 1 upload · riga · WP4-M3" and r.state.is_completed()]

            wait_for(lambda: riga_run("baltmet-inno"), timeout=30, interval=0.5, what="riga's receive-uploads run")
            wait_for(
                lambda: riga_run("other-inno"),
                timeout=30,
                interval=0.5,
                what="riga's receive-uploads run in the other project",
            )
            [receipt] = [parse_eml(p) for p in (outputs / "outbox" / "other-inno").glob("*.eml")]
            assert receipt["Subject"].startswith("[Other Inno] WP4-M3 receipt — seed_funding_riga.csv")

            # the last missing inputs arrive: the watcher starts the served deployment (run_deployment)
            for partner in ("berlin-tsb", "copenhagen", "riga", "stockholm", "st-petersburg", "tallinn"):
                path = inbox / partner / "WP4-M3" / f"seed_funding_{partner}_final.csv"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(seed_csv(f"{partner} seed fund"))

            # once the folder is quiet (WPFLOW_REPORT_DELAY_SECONDS), the watcher starts the served
            # deployment: the complete milestone's report is the newest version
            from wpflow.store.store import Store

            with Store(f"sqlite:///{outputs / 'wpflow.db'}") as store:

                def complete_version():
                    latest = store.latest_version("BaltMet Inno", "WP4-M3")
                    done = latest is not None and latest.status == "complete" and latest.report is not None
                    return latest if done else None

                final = wait_for(
                    complete_version, timeout=90, interval=0.5, what="the complete milestone's report version"
                )
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(not_any_=[run.id])),
                flow_filter=FlowFilter(name=FlowFilterName(any_=["milestone-pipeline"])),
            )
            triggered = [r for r in runs if r.deployment_id == served_deployment.id]
            assert triggered and all(
                r.parameters == {"milestone_id": "WP4-M3", "project": BUNDLED_REF} for r in triggered
            )
            assert final.version >= 2 and Path(final.report.path).is_file()
        assert served.poll() is None, "serve exited early"
        served.send_signal(signal.SIGINT)  # Ctrl-C: a clean shutdown, watcher thread included
        stopped_at = time.monotonic()
        try:  # bounded by design: 10 s for the runner's stop + 10 s for the watcher (SHUTDOWN_GRACE_SECONDS)
            served.wait(30)
        except subprocess.TimeoutExpired:
            served.send_signal(signal.SIGUSR1)  # every thread's stack into serve.log
            time.sleep(1)
            raise AssertionError(
                "serve ignored Ctrl-C for 30 s:\n" + (tmp_path / "serve.log").read_text()[-6000:]
            ) from None
        assert served.returncode == 0, (tmp_path / "serve.log").read_text()[-3000:]
        assert time.monotonic() - stopped_at < 25
    finally:
        if served.poll() is None:
            os.killpg(served.pid, signal.SIGKILL)
            served.wait(10)
        log.close()


@pytest.mark.system
@pytest.mark.prefect_server
def test_deploy_to_a_work_pool_and_a_process_worker_runs_the_pipeline(prefect_server_url, tmp_path):
    """`wpflow deploy --work-pool P` registers deployments a plain `prefect worker` can run:
    the worker starts the flow from this checkout (not an empty temp folder) and the report
    lands in the configured outputs."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.workers.process import ProcessWorker

    inbox, outputs = tmp_path / "inbox", tmp_path / "outputs"
    path = inbox / "helsinki" / "WP4-M3" / "seed_funding_helsinki.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(seed_csv("Helsinki seed fund"))
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_server_url,
        "PREFECT_HOME": str(tmp_path / "home"),
        "WPFLOW_OUTPUTS": str(outputs),
        "WPFLOW_INBOX": str(inbox),
        "WPFLOW_STABLE_SECONDS": "0",
    }
    prefect = [sys.executable, "-m", "prefect"]

    def run(args, timeout=120):
        done = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done.stdout + done.stderr

    with temporary_settings({PREFECT_API_URL: prefect_server_url}), get_client(sync_client=True) as client:
        # what `prefect work-pool create --type process` sends, without starting Prefect's CLI
        template = ProcessWorker.get_default_base_job_template()
        client.create_work_pool(WorkPoolCreate(name="wpflow-test-pool", type="process", base_job_template=template))
    deployed = run([sys.executable, "-m", "wpflow", "deploy", "--work-pool", "wpflow-test-pool"])
    assert "milestone-pipeline/baltmet-inno-wp4-m3:" in deployed
    with temporary_settings({PREFECT_API_URL: prefect_server_url}):
        flow_run = run_deployment(
            "milestone-pipeline/baltmet-inno-wp4-m3", timeout=0, parameters={"milestone_id": "WP4-M3"}
        )
        worker_log = run([*prefect, "worker", "start", "--pool", "wpflow-test-pool", "--run-once"], timeout=180)
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(flow_run.id).state
    assert ran_to_the_end(state), worker_log[-3000:]
    report = outputs / "reports" / "baltmet-inno" / "WP4-M3.docx"
    assert report.is_file()
    from docx import Document

    assert "Helsinki seed fund" in "\n".join(
        c.text for t in Document(str(report)).tables for r in t.rows for c in r.cells
    )
