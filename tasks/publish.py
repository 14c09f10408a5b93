"""Publish task: what the Prefect UI shows for a run — status table, summary, report link."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)

from schemas.records import ReportOutcome, WPSummary
from wpflow.issue.lifecycle import version_file
from wpflow.milestone.stages import summary_lines
from wpflow.report.http_server import report_link
from wpflow.workspace import slug_of, workspace


def artifact_key(project: str, milestone_id: str, what: str) -> str:
    """`baltmet-inno-wp4-m3-status`: a key per project (two projects' WP4-M3 are two
    artifacts); keys allow lowercase letters, digits and dashes only."""
    return f"{slug_of(project)}-{milestone_id.lower()}-{what}"


def summary_markdown(summary: WPSummary, outcome: ReportOutcome) -> str:
    lines = [
        f"# {summary.milestone_id} — {summary.milestone_title}",
        f"*{summary.wp_id} {summary.wp_title}* · period {summary.start} – {summary.end} · due **{summary.due}**",
        "",
    ]
    lines += [f"- {line}" for line in summary_lines(summary)]
    if summary.meetings:
        lines += ["", "## Meetings", "", "| City | Month | Topic |", "|---|---|---|"]
        lines += [f"| {m.city} | {m.month}{' (assumed)' if m.assumed else ''} | {m.topic} |" for m in summary.meetings]
    lines += ["", f"**{outcome.message}**"]
    report = outcome.report
    if outcome.version is not None and report is not None:
        lines += [
            (
                f"Report: `{Path(report.path).name}`, version {outcome.version.version} "
                f"(fingerprint `{outcome.version.fingerprint[:16]}…`)"
            )
        ]
    return "\n".join(lines)


@task(retries=2, retry_delay_seconds=[2, 10], timeout_seconds=60)
def publish_artifacts(project: str, summary: WPSummary, outcome: ReportOutcome) -> None:
    create_table_artifact(
        key=artifact_key(project, summary.milestone_id, "status"),
        table=[
            {
                "partner": s.partner,
                "city": s.city,
                "input": s.kind,
                "status": s.status,
                "file": s.file_name or "",
                "version": s.version or "",
                "errors": s.errors,
            }
            for s in summary.partners
        ],
        description=f"{summary.milestone_id}: partner × required input status",
    )
    create_markdown_artifact(
        key=artifact_key(project, summary.milestone_id, "summary"),
        markdown=summary_markdown(summary, outcome),
        description=f"{summary.milestone_id}: merged milestone summary",
    )
    settings = workspace(project).settings
    if outcome.report is not None:
        path = Path(outcome.report.path)
    elif outcome.version is not None:  # issued by a run at the same moment: the file it writes
        path = version_file(settings.reports_dir, outcome.milestone_id, outcome.version.version)
    else:
        return
    create_link_artifact(
        key=artifact_key(project, summary.milestone_id, "report"),
        link=report_link(settings, path),
        link_text=path.name,
        description=f"{summary.milestone_id}: Word report",
    )
