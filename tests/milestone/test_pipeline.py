"""The whole loop through Prefect: inbox files → DOCX report → one e-mail per recipient.

Runs the real flow on an ephemeral Prefect API (a temporary database via the test harness)
against a small inbox built here, so the assertions know exactly what went in.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from docx import Document

from tests.conftest import parse_eml
from tests.prefect_harness import drain_prefect_workers

SCHEMES = {
    "helsinki": [
        ("Helsinki Start-up Grant", "municipal", "grant", "2 000 000,00"),
        ("Culminatum Seed Loan", "regional", "loan", "500 000,00"),
    ],
    "malmo": [("Malmö Innovationsfond", "municipal", "equity", "750 000,00")],
}
HEADER = ["name", "provider", "level", "instrument", "budget_eur", "ticket_min_eur", "ticket_max_eur", "since"]


def write_csv(path: Path, rows) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";")
    writer.writerow(HEADER)
    for name, level, instrument, budget in rows:
        writer.writerow([name, "City", level, instrument, budget, "", "", ""])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode("cp1252"))


@pytest.fixture
def pipeline_env(tmp_path, configure):
    inbox = tmp_path / "inbox"
    for partner, rows in SCHEMES.items():
        write_csv(inbox / partner / "WP4-M3" / f"seed_funding_{partner}.csv", rows)
    bad = inbox / "riga" / "WP4-M3" / "seed_funding_riga.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "name;provider;level;instrument;budget_eur\nRiga Seed;Riga;municipal;grant;about 2 mio\n", encoding="utf-8"
    )
    # file times are "now"; as with the bundled inbox, arrivals.yaml says when they came in
    (inbox / "arrivals.yaml").write_text(
        "helsinki/WP4-M3/seed_funding_helsinki.csv: 2006-06-20\n"
        "malmo/WP4-M3/seed_funding_malmo.csv: 2006-07-04\n"
        "riga/WP4-M3/seed_funding_riga.csv: 2006-06-28\n"
    )
    return configure(inbox=inbox, stable_seconds=0).outputs


def docx_text(path: Path) -> str:
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    parts += [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def test_pipeline_renders_report_and_mails_each_recipient_once(prefect_api, pipeline_env, project):
    from datetime import date

    from flows.milestone import milestone_pipeline
    from wpflow.workspace import workspace

    outputs = pipeline_env
    outcome = milestone_pipeline("WP4-M3", date(2006, 7, 31))
    ref = outcome.report
    report = Path(ref.path)
    assert report == outputs / "reports" / "baltmet-inno" / "history" / "WP4-M3.v1.docx"
    assert (
        outputs / "reports" / "baltmet-inno" / "WP4-M3.docx"
    ).read_bytes() == report.read_bytes()  # the latest version
    assert (outcome.release, outcome.new_version, ref.version) == ("report", True, 1)
    text = docx_text(report)
    assert "Public seed funding in the BSR metropolitan areas" in text
    assert "Helsinki Start-up Grant" in text and "Malmö Innovationsfond" in text
    assert "3 250 000" in text.replace("\u202f", " ").replace(",", " ")  # total budget across cities
    assert "Stockholm" in text  # a meeting city of WP4-M3 (second ARG meetings)
    assert "St. Petersburg" in text  # listed as missing in the status table

    # one report e-mail per recipient, with the DOCX attached
    recipients = {p.emails[0] for p in project.recipients(project.milestone("WP4-M3"))}
    reports = [parse_eml(p) for p in (outputs / "outbox" / "baltmet-inno").glob("*.eml")]
    report_mails = [m for m in reports if "WP4-M3 report" in m["Subject"]]
    assert sorted(m["To"].addresses[0].addr_spec for m in report_mails) == sorted(recipients)
    assert all(m["Cc"] is None for m in report_mails)  # the lead gets its own message, not a Cc on each
    attachment = next(report_mails[0].iter_attachments())
    assert attachment.get_filename() == "WP4-M3.v1.docx"
    assert attachment.get_content() == report.read_bytes()
    # riga's broken file: a receipt naming the cell, and the original kept in the archive
    receipt = next(
        m
        for m in reports
        if m["To"].addresses[0].addr_spec == "baltmet-inno@riga.example.org" and "report" not in m["Subject"]
    )
    body = receipt.get_body(("plain",)).get_content()
    assert "seed_funding_riga.csv" in body and "row 2" in body and "budget_eur" in body
    [annotated] = list(receipt.iter_attachments())  # the CSV back as a workbook, bad cells marked
    assert annotated.get_filename() == "seed_funding_riga (annotated).xlsx"
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(annotated.get_content()))
    assert "is not a number" in workbook["Schemes"]["E2"].comment.text
    store = workspace().store
    riga = store.submissions(project.name, milestone="WP4-M3", partner="riga")
    assert [s.status for s in riga] == ["invalid"]
    assert Path(riga[0].archive_path).read_bytes().startswith(b"name;provider")

    # a re-run on a later day sends nothing: a report is its content, not the day it was made
    count = len(list((outputs / "outbox" / "baltmet-inno").glob("*.eml")))
    again = milestone_pipeline("WP4-M3", date(2006, 8, 15))
    assert (again.new_version, again.report) == (False, ref)
    assert again.message == "WP4-M3: report unchanged since v1 of 2006-07-31, nothing sent"
    assert len(list((outputs / "outbox" / "baltmet-inno").glob("*.eml"))) == count


def test_render_failure_then_rerun_mails_each_recipient_once(prefect_api, pipeline_env, project, monkeypatch):
    """A render that fails through all its retries fails the run (recorded with its reason) and
    sends no report; the re-run renders, and each recipient gets the report exactly once."""
    from datetime import date

    import tasks.report
    import wpflow.report.render
    from flows.milestone import milestone_pipeline
    from wpflow.workspace import workspace

    outputs = pipeline_env
    real_render, calls = wpflow.report.render.render_report, []

    def broken_render(summary, *args, **kwargs):
        calls.append(summary.milestone_id)
        raise OSError("disk full while writing the report")

    monkeypatch.setattr(tasks.report.issue_report, "retry_delay_seconds", [0, 0])
    monkeypatch.setattr(wpflow.report.render, "render_report", broken_render)
    with pytest.raises(OSError, match="disk full"):
        milestone_pipeline("WP4-M3", date(2006, 7, 31))
    assert len(calls) == 3  # the first try and both retries on the decorator
    mails = [parse_eml(p) for p in (outputs / "outbox" / "baltmet-inno").glob("*.eml")]
    assert mails and not [m for m in mails if "report" in m["Subject"]]  # receipts went, no report
    assert not (outputs / "reports" / "baltmet-inno" / "WP4-M3.docx").exists()

    monkeypatch.setattr(wpflow.report.render, "render_report", real_render)
    outcome = milestone_pipeline("WP4-M3", date(2006, 7, 31))
    ref = outcome.report
    assert outcome.new_version and ref.version == 1  # issued before the failure, rendered and sent now
    mails = [parse_eml(p) for p in (outputs / "outbox" / "baltmet-inno").glob("*.eml")]
    report_to = sorted(m["To"].addresses[0].addr_spec for m in mails if "WP4-M3 report" in m["Subject"])
    assert report_to == sorted(p.emails[0] for p in project.recipients(project.milestone("WP4-M3")))
    receipts = [m for m in mails if "report" not in m["Subject"]]
    assert len(receipts) == len(SCHEMES) + 1  # one per file (helsinki, malmo, riga), not one per run

    runs = workspace().store.runs(project.name, "WP4-M3")
    assert [(r.status, r.report_sha256) for r in runs] == [("failed", None), ("incomplete", ref.sha256)]
    assert runs[0].error == "OSError: disk full while writing the report"
    assert runs[0].flow_run_id and runs[0].flow_run_id != runs[1].flow_run_id


def test_pipeline_over_smtp_delivers_a_report_holding_the_merged_table(
    prefect_api,
    pipeline_env,
    project,
    smtp_server,
    configure,
):
    """Through a real SMTP server: envelope recipients, and the attached DOCX's comparative table
    has each city's budget and the total (not just "a file was attached")."""
    from datetime import date

    from flows.milestone import milestone_pipeline

    configure(mail_transport="smtp", smtp_port=smtp_server.port)
    milestone_pipeline("WP4-M3", date(2006, 7, 31))

    reports = [(e, m) for e, m in zip(smtp_server.envelopes, smtp_server.messages) if "WP4-M3 report" in m["Subject"]]
    recipients = project.recipients(project.milestone("WP4-M3"))
    assert sorted(m["To"].addresses[0].addr_spec for _, m in reports) == sorted(p.emails[0] for p in recipients)
    envelope, message = next((e, m) for e, m in reports if "helsinki" not in m["To"].addresses[0].addr_spec)
    assert envelope.rcpt_tos == [message["To"].addresses[0].addr_spec]  # one reader per copy, the lead its own
    assert message["Subject"].startswith("[BaltMet Inno] WP4-M3 report v1 — ")
    attachment = next(message.iter_attachments())
    doc = Document(io.BytesIO(attachment.get_content()))
    tables = [[tuple(c.text.replace("\u202f", " ") for c in r.cells) for r in t.rows] for t in doc.tables]
    comparative = next(t for t in tables if any(r[0] == "Total" for r in t))  # one row per city + total
    budget_rows = {r[0]: r for r in comparative}
    assert "2 500 000" in budget_rows["Helsinki"] and "750 000" in budget_rows["Malmö"]
    assert "3 250 000" in budget_rows["Total"]
    assert not (pipeline_env / "outbox" / "baltmet-inno").exists() or not list(
        (pipeline_env / "outbox" / "baltmet-inno").glob("*.eml")
    )


@pytest.mark.parametrize("workers", ["1", "3"], ids=["one-after-the-other", "concurrent"])
def test_runs_tell_the_truth_in_the_ui(prefect_api, pipeline_env, project, monkeypatch, configure, workers):
    """Through the Prefect API: a run with inputs missing ends "Incomplete", its logs say what a
    coordinator reads, and `all_milestones` with one broken milestone runs the others and ends
    Failed naming it — the same whether the milestones run one after the other or at once
    (WPFLOW_MILESTONE_WORKERS); the store records each run as it really ended (state hooks)."""
    from datetime import date

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterParentFlowRunId,
        LogFilter,
        LogFilterFlowRunId,
    )

    import tasks.merge
    from flows.milestone import all_milestones
    from wpflow.workspace import workspace

    real_merge = tasks.merge.merge_stage

    def merge_unless_wp1(ws, milestone, checked, as_of):
        if milestone.id == "WP1-M1":
            raise RuntimeError("a broken milestone definition")
        return real_merge(ws, milestone, checked, as_of)

    monkeypatch.setattr(tasks.merge, "merge_stage", merge_unless_wp1)
    configure(milestone_workers=workers)
    state = all_milestones(["WP4-M3", "WP1-M1", "WP3-M2"], date(2006, 7, 31), return_state=True)

    assert state.is_failed() and state.message == "1 of 3 milestone(s) failed: WP1-M1"
    results = state.result(raise_on_failure=False)  # per milestone its outcome or its exception
    assert list(results) == ["WP4-M3", "WP1-M1", "WP3-M2"]
    assert isinstance(results["WP1-M1"], RuntimeError) and "broken milestone" in str(results["WP1-M1"])
    assert results["WP4-M3"].milestone_id == "WP4-M3"
    with get_client(sync_client=True) as client:
        parent = client.read_flow_run(state.state_details.flow_run_id)
        # this run's own subflows, asked for by parent: every child run of the session's API, read
        # by start time, came back only up to the API's default limit, in no particular order
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent.id]))
        )
        mine = {r.parameters["milestone_id"]: r for r in children}
        assert {m: (r.state.type.value, r.state.name) for m, r in mine.items()} == {
            # the UI's colour is the type's: an incomplete milestone is grey, neither green nor red
            "WP4-M3": ("CANCELLED", "Incomplete"),  # St. Petersburg and others missing
            "WP1-M1": ("FAILED", "Failed"),
            "WP3-M2": ("CANCELLED", "Incomplete"),  # nothing arrived: the coordinator and lead are told
        }
        assert mine["WP4-M3"].state.message.startswith("WP4-M3: report v1 issued (incomplete); 8 e-mail(s) sent")
        drain_prefect_workers()  # the runs' last logs are still in the client's batch (sent every 2 s)
        logs = [
            entry.message
            for entry in client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[mine["WP4-M3"].id]))
            )
        ]
    text = "\n".join(logs)
    assert "WP4-M3: 3 file(s) collected: helsinki 1, malmo 1, riga 1" in text
    assert "riga: seed_funding_riga.csv is invalid (1 error(s)); first: seed_funding_riga.csv, row 2" in text
    assert "report to baltmet-inno@malmo.example.org: sent" in text
    assert re.search(r"WP4-M3: version 1, fingerprint [0-9a-f]{16}", text)
    runs = {r.milestone: r for r in workspace().store.runs(project.name)}
    assert (runs["WP1-M1"].status, runs["WP1-M1"].error) == ("failed", "RuntimeError: a broken milestone definition")
    assert (runs["WP4-M3"].status, runs["WP4-M3"].report_version) == ("incomplete", 1)
    assert runs["WP3-M2"].status == "incomplete" and "nothing usable arrived" in runs["WP3-M2"].outcome


@pytest.mark.parametrize("started_by", ["flow", "cli"])
def test_a_run_uses_the_folders_of_the_project_it_is_given(
    prefect_api, other_project, configure, monkeypatch, started_by
):
    """A second project is just another value: the flow's `project` parameter (or `wpflow run
    --project`, which passes it down) decides which inbox is collected, whose store rows, run
    record and e-mails they are — with no WPFLOW_PROJECT or WPFLOW_INBOX in the environment,
    and none written there."""
    import json
    import os
    from datetime import date

    from flows.milestone import milestone_pipeline
    from wpflow.workspace import workspace

    for partner, rows in SCHEMES.items():
        write_csv(other_project / "inbox" / partner / "WP4-M3" / f"seed_funding_{partner}.csv", rows)
    (other_project / "inbox" / "arrivals.yaml").write_text(
        "helsinki/WP4-M3/seed_funding_helsinki.csv: 2006-06-20\nmalmo/WP4-M3/seed_funding_malmo.csv: 2006-06-21\n"
    )
    settings = configure(stable_seconds=0)  # the process's own settings
    if started_by == "flow":
        report = Path(milestone_pipeline("WP4-M3", date(2006, 7, 31), project=str(other_project)).report.path)
    else:
        from typer.testing import CliRunner

        from wpflow.cli.app import app

        for name in ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "PREFECT_SERVER_LOGGING_LEVEL"):
            monkeypatch.setenv(name, "180" if "TIMEOUT" in name else "CRITICAL")  # what `run` sets, undone after
        args = ["run", "WP4-M3", "--project", str(other_project), "--as-of", "2006-07-31", "--format", "json"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        [run] = json.loads(result.stdout)["runs"]
        report = Path(run["report"])
    assert "WPFLOW_PROJECT" not in os.environ and "WPFLOW_INBOX" not in os.environ

    text = docx_text(report)
    assert "Other Inno" in text and "Helsinki Start-up Grant" in text and "Malmö Innovationsfond" in text
    store = workspace(str(other_project)).store
    collected = store.submissions("Other Inno", milestone="WP4-M3")
    assert sorted(s.partner for s in collected) == ["helsinki", "malmo"]
    assert store.submissions("BaltMet Inno") == []  # the bundled project's own inbox was not read
    [record] = store.runs("Other Inno", "WP4-M3")  # closed by the state hook, from the run's parameter
    assert (record.status, record.report_version) == ("incomplete", 1)
    subjects = {parse_eml(p)["Subject"] for p in (settings.outputs / "outbox" / "other-inno").glob("*.eml")}
    assert subjects and all(s.startswith("[Other Inno] ") for s in subjects)
