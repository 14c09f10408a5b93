"""Several projects in one installation: the bundled BaltMet Inno and a second project beside it
(Other Inno, a copy under another name with the same people) run side by side — each into its
own inbox, report and outbox folders and store rows, each e-mail once per project, one ladder
for both, deployments named by project."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from schemas.settings import Settings
from tests.conftest import BUNDLED_PROJECT, parse_eml
from tests.uploads import put, seed_csv
from tests.waiting import wait_for

MILESTONE = "WP4-M3"
FUNDS = {"baltmet-inno": "Helsinki Start-up Grant", "other-inno": "Helsinki Other Fund"}
NAMES = {"baltmet-inno": "BaltMet Inno", "other-inno": "Other Inno"}


@dataclass
class Installation:
    outputs: Path
    folders: dict[str, Path]  # slug → project folder
    inboxes: dict[str, Path]  # slug → its partners' folders

    def outbox(self, slug: str) -> list:
        folder = self.outputs / "outbox" / slug
        return [parse_eml(p) for p in sorted(folder.glob("*.eml"))] if folder.is_dir() else []


@pytest.fixture
def installation(configure, other_project, tmp_path) -> Installation:
    """BaltMet Inno, the configured project (WPFLOW_PROJECT; its inbox WPFLOW_INBOX in a temp
    folder), and Other Inno in a folder of projects (WPFLOW_PROJECTS) with its own inbox; in
    each, Helsinki's seed-funding file (on time) and Malmö's (late)."""
    inboxes = {"baltmet-inno": tmp_path / "inbox", "other-inno": other_project / "inbox"}
    for slug, inbox in inboxes.items():
        put(inbox, "helsinki", MILESTONE, "seed_funding_helsinki.csv", seed_csv(FUNDS[slug]))
        put(inbox, "malmo", MILESTONE, "seed_funding_malmo.csv", seed_csv(f"Malmö {slug}"))
        (inbox / "arrivals.yaml").write_text(
            f"helsinki/{MILESTONE}/seed_funding_helsinki.csv: 2006-06-10\n"
            f"malmo/{MILESTONE}/seed_funding_malmo.csv: 2006-07-05\n"
        )
    settings = configure(
        project=BUNDLED_PROJECT, projects=other_project.parent, inbox=inboxes["baltmet-inno"], stable_seconds=0
    )
    return Installation(settings.outputs, {"baltmet-inno": BUNDLED_PROJECT, "other-inno": other_project}, inboxes)


def invoke(*args: str):
    from wpflow.cli.app import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


# -- the installation and each project's folders ------------------------------------------------
def test_the_installation_is_every_project_of_its_folder(installation, tmp_path):
    from wpflow.project.installation import installation_projects, named_project, project_folders
    from wpflow.project.load import ProjectErrors

    settings = Settings()
    assert [(f, p.name) for f, p in installation_projects(settings)] == [
        (BUNDLED_PROJECT, "BaltMet Inno"),
        (installation.folders["other-inno"], "Other Inno"),
    ]
    assert named_project(settings, Path("other-inno")) == installation.folders["other-inno"]  # --project <slug>
    # without settings: the checkout's projects/; WPFLOW_PROJECT alone elsewhere: that project only
    assert BUNDLED_PROJECT in project_folders(Settings(_env_file=None, project=BUNDLED_PROJECT, projects=None))
    alone = Settings(_env_file=None, project=installation.folders["other-inno"], projects=None)
    assert project_folders(alone) == [installation.folders["other-inno"]]
    # a third project named like the second: its reports and store rows would mix, refused
    twin = tmp_path / "twin"
    twin.mkdir()
    (twin / "project.yaml").write_bytes((installation.folders["other-inno"] / "project.yaml").read_bytes())
    with pytest.raises(ProjectErrors, match="the project name 'Other Inno' is already"):
        installation_projects(settings)


def test_each_project_has_its_inbox_reports_outbox_and_quarantine_and_shares_the_store(installation, tmp_path):
    from wpflow.workspace import workspace

    bundled, other = workspace(), workspace(str(installation.folders["other-inno"]))
    outputs = installation.outputs
    assert (bundled.slug, other.slug) == ("baltmet-inno", "other-inno")
    # WPFLOW_INBOX is the configured project's inbox only: the other keeps its own
    assert (bundled.settings.inbox_root, other.settings.inbox_root) == tuple(installation.inboxes.values())
    for ws in (bundled, other):
        assert ws.settings.reports_dir == outputs / "reports" / ws.slug
        assert ws.settings.outbox_dir == outputs / "outbox" / ws.slug
        assert ws.settings.quarantine_dir == outputs / "quarantine" / ws.slug
    assert bundled.settings.archive_dir == other.settings.archive_dir == outputs / "archive"
    assert bundled.settings.db_url == other.settings.db_url
    # a folder of inboxes on a shared drive: <inboxes>/<slug>/ for each project
    shared = Settings(_env_file=None, inboxes=tmp_path / "share")
    assert shared.for_project(installation.folders["other-inno"]).inbox_root == tmp_path / "share" / "other-inno"


# -- runs, status and the ladder, without Prefect ----------------------------------------------
def test_a_run_of_each_project_writes_its_own_folders_rows_and_mails_and_status_tells_each(installation):
    from docx import Document

    from wpflow.store.store import Store

    for slug in FUNDS:
        invoke("run", MILESTONE, "--as-of", "2006-07-31", "--direct", "--project", slug)
    with Store(f"sqlite:///{installation.outputs / 'wpflow.db'}") as store:
        for slug, fund in FUNDS.items():
            name = NAMES[slug]
            report = installation.outputs / "reports" / slug / f"{MILESTONE}.docx"
            cells = {c.text for t in Document(str(report)).tables for r in t.rows for c in r.cells}
            assert fund in cells and FUNDS[next(s for s in FUNDS if s != slug)] not in cells
            assert {s.file_name for s in store.submissions(name, MILESTONE)} == {
                "seed_funding_helsinki.csv",
                "seed_funding_malmo.csv",
            }
            assert [v.version for v in store.versions(name, MILESTONE)] == [1]
            assert [r.status for r in store.runs(name, MILESTONE)] == ["incomplete"]
            mails = installation.outbox(slug)
            assert mails and all(m["Subject"].startswith(f"[{name}] ") for m in mails)
            # the same Helsinki address in both projects: a receipt from each (keys are per project)
            receipts = [m for m in mails if "receipt" in m["Subject"] and "helsinki" in m["To"]]
            assert len(receipts) == 1
        message_ids = [m["Message-ID"] for slug in FUNDS for m in installation.outbox(slug)]
        assert len(set(message_ids)) == len(message_ids)

    one = json.loads(invoke("status", "--project", "other-inno", "--as-of", "2006-07-31", "--format", "json").stdout)
    every = json.loads(invoke("status", "--all-projects", "--as-of", "2006-07-31", "--format", "json").stdout)
    assert [(p["project"], p["slug"]) for p in every["projects"]] == [
        ("BaltMet Inno", "baltmet-inno"),
        ("Other Inno", "other-inno"),
    ]
    assert every["projects"][1]["milestones"] == one["milestones"]
    table = invoke("status", "--all-projects", "--as-of", "2006-07-31").stdout
    assert "BaltMet Inno (baltmet-inno)" in table and "Other Inno (other-inno)" in table

    from wpflow.cli.app import app

    both = CliRunner().invoke(app, ["status", "--all-projects", "--project", "other-inno"])
    assert both.exit_code == 1 and "not both" in both.output


def test_the_ladder_covers_every_project_and_reminds_one_person_once_per_project(installation):
    """2006-06-16, T-14 of WP4-M3: Malmö's person (in both projects) is reminded by each."""
    args = ["deadlines", "--all-projects", "--as-of", "2006-06-16", "--direct", "--format", "json"]
    actions = json.loads(invoke(*args).stdout)["actions"]
    reminders = {(a["project"], a["milestone"]): a for a in actions if a["action"] == "reminder"}
    assert {p for p, _ in reminders} == {"BaltMet Inno", "Other Inno"}
    malmo = reminders[("BaltMet Inno", MILESTONE)]["sent"]
    assert malmo and malmo == reminders[("Other Inno", MILESTONE)]["sent"]
    for slug, name in NAMES.items():
        subjects = [m["Subject"] for m in installation.outbox(slug) if "reminder" in m["Subject"].lower()]
        assert subjects and all(s.startswith(f"[{name}] ") for s in subjects)
    again = json.loads(invoke(*args).stdout)["actions"]
    assert [a["sent"] for a in again] == [[] for _ in again]
    simulated = json.loads(invoke("simulate", "--all-projects", "--to", "2006-07-31", "--format", "json").stdout)
    assert [p["slug"] for p in simulated] == list(NAMES)
    assert all(any(r["milestone"] == MILESTONE for r in p["timeline"]) for p in simulated)


def test_the_watcher_of_each_project_receives_its_own_inbox(installation):
    """One watcher per project, as `wpflow serve` starts them: a file in each inbox is received
    by its own project, archived once, acknowledged from its own outbox."""
    from wpflow.inbox.watch import InboxWatcher
    from wpflow.workspace import workspace

    workspaces = {slug: workspace(str(folder)) for slug, folder in installation.folders.items()}
    stop = threading.Event()
    watchers = [InboxWatcher(ws, trigger=lambda _m: None) for ws in workspaces.values()]
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in watchers]
    for thread in threads:
        thread.start()
    try:
        assert all(w.ready.wait(10) for w in watchers)
        for slug, inbox in installation.inboxes.items():
            put(inbox, "riga", MILESTONE, "seed_funding_riga.csv", seed_csv(f"Riga {slug}"))

        def riga_in_each() -> bool:
            return all(
                any(s.file_name == "seed_funding_riga.csv" for s in ws.store.submissions(ws.project.name, MILESTONE))
                and any("riga" in m["To"] for m in installation.outbox(slug))
                for slug, ws in workspaces.items()
            )

        wait_for(riga_in_each, timeout=30, what="riga's file received in both projects")
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    for slug, ws in workspaces.items():
        [riga] = ws.store.submissions(ws.project.name, MILESTONE, "riga")
        assert Path(riga.archive_path).read_bytes() == seed_csv(f"Riga {slug}")


# -- deployments ---------------------------------------------------------------------------------
def test_deployments_are_named_and_tagged_by_project_with_one_daily_ladder(installation, tmp_path):
    from orchestration.deployments import installation_specs
    from wpflow.project.load import load_project

    other = installation.folders["other-inno"]
    refs = [(load_project(BUNDLED_PROJECT), "projects/baltmet-inno"), (load_project(other), str(other))]
    specs = installation_specs(refs)
    names = [s.name for s in specs]
    assert len(names) == len(set(names))
    for slug, ref in (("baltmet-inno", "projects/baltmet-inno"), ("other-inno", str(other))):
        mine = [s for s in specs if s.parameters.get("project") == ref]
        assert all(s.name.startswith(f"{slug}-") and s.tags[0] == slug for s in mine)
        assert {f"{slug}-wp4-m3", f"{slug}-wp4-final-report", f"{slug}-final-report", f"{slug}-inbox"} <= set(names)
    [daily] = [s for s in specs if s.entrypoint == "flows/deadlines.py:deadline_ladder"]
    assert (daily.name, daily.parameters) == ("daily", {"projects": ["projects/baltmet-inno", str(other)]})
    assert daily.tags == ("baltmet-inno", "other-inno", "deadlines")
    # a project in another time zone: a ladder at 07:00 there too
    berlin = refs[1][0].model_copy(
        update={"deadlines": refs[1][0].deadlines.model_copy(update={"timezone": "Europe/Berlin"})}
    )
    dailies = [s for s in installation_specs([refs[0], (berlin, str(other))]) if s.cron]
    assert [(s.name, s.timezone, s.parameters["projects"]) for s in dailies] == [
        ("daily-europe-helsinki", "Europe/Helsinki", ["projects/baltmet-inno"]),
        ("daily-europe-berlin", "Europe/Berlin", [str(other)]),
    ]


# -- through Prefect (conftest's prefect_api) ------------------------------------------------------
def test_one_ladder_run_covers_both_projects_as_subflows_named_by_project(prefect_api, installation):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    from flows.deadlines import deadline_ladder

    refs = [str(folder) for folder in installation.folders.values()]
    state = deadline_ladder(date(2005, 6, 16), refs, return_state=True)
    assert state.is_completed(), state.message
    results = state.result()
    assert {r.project for r in results} == set(NAMES.values())
    assert {r.action.action for r in results} == {"reminder"}  # T-14 of the milestones due 2005-06-30
    for slug, name in NAMES.items():
        sent = [n for r in results if r.project == name for n in r.sent]
        assert sent and len(installation.outbox(slug)) == len(sent)
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["project-deadlines"])))
        parents = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["deadline-ladder"])))
    assert {r.name for r in runs} >= {f"{slug} · deadlines 2005-06-16" for slug in NAMES}
    assert "deadlines 2005-06-16 · 2 projects" in {r.name for r in parents}
