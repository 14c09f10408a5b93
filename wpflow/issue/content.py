"""Report versions: a report's identity is what it says, not the day it was rendered.

A milestone report is re-issued only when its *content* changes. The content is named by a
fingerprint over the inputs used (each file's SHA-256), each partner's status for the
milestone, the milestone's definition, the template's version and the report's frame (author,
publicity, rates, definitions, the coordinator's narrative) — never the as-of date or
the generation time, which the report prints but which change every day. Each new fingerprint
is a new version (v1, v2, …); a report e-mail goes out once per (milestone, recipient,
fingerprint). Pure functions only: the store and the pipeline use them, and so does the
rehearsal (`wpflow simulate`), so both count the same versions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from enum import StrEnum

from schemas.deliverable import ReportFrame
from schemas.project import Milestone, Project
from schemas.records import PartnerState, PartnerStatus, ReportVersion, VersionContents, WPSummary
from wpflow.report.plain_words import format_value, kind_title


class Release(StrEnum):
    """What a milestone's pipeline does with its summary on a given day."""

    REPORT = "report"  # issue (or re-issue) the report to its recipients
    EMPTY = "empty"  # nothing usable arrived by the due date: tell the coordinator and lead
    WAIT = "wait"  # not due and not complete: a draft for the secretariat, nothing sent


def digest(parts: object) -> str:
    """SHA-256 of a JSON-able value, key order fixed: the same content hashes the same anywhere."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def state_key(states: Iterable[PartnerState]) -> list[list[str]]:
    """What the partners' side of a report depends on: who delivered what (by hash), with which status."""
    return sorted([s.partner, s.kind, s.status, s.sha256 or ""] for s in states)


def inputs_digest(states: Iterable[PartnerState]) -> str:
    """The partners' side of the fingerprint alone: what the daily ladder and the watcher can
    compute from the store without rendering, to start a pipeline once per distinct content."""
    return digest(state_key(states))[:20]


def report_fingerprint(
    states: Iterable[PartnerState], milestone: Milestone, template_sha256: str, frame: ReportFrame | None = None
) -> str:
    """The content identity of a report (see the module docstring). The frame is content too:
    the coordinator editing the narrative, a new emblem or a corrected rate make a new version."""
    return digest(
        {
            "states": state_key(states),
            "milestone": milestone.model_dump(mode="json"),
            "template": template_sha256,
            "frame": frame.content() if frame is not None else None,
        }
    )


def sent_as(version: ReportVersion, versions: Iterable[ReportVersion]) -> str:
    """What a report e-mail's once-key says it carries: the version's content fingerprint — or,
    when an earlier version had that content (A, B, then A again), the fingerprint with the
    version's number, so that whoever had v1 and v2 is sent v3 too. Keys of versions issued
    before this rule keep their plain fingerprint: nothing sent then goes out again."""
    if any(v.fingerprint == version.fingerprint and v.version < version.version for v in versions):
        return f"{version.fingerprint}@v{version.version}"
    return version.fingerprint


def release_day(project: Project, milestone: Milestone) -> date:
    """The day a report goes out with whatever has arrived: the due date plus the grace days."""
    return milestone.due + timedelta(days=project.deadlines.grace_days)


def release_decision(project: Project, milestone: Milestone, states: list[PartnerState], day: date) -> Release:
    """The rule of `reports.release` in project.yaml, as a function of the partners' states.

    - From the release day on: a report with whatever has arrived (marked incomplete), or —
      when nothing usable arrived at all — a word to the coordinator and the lead instead.
    - Earlier, with `release: due-or-complete` (the default): a report once every required
      input is valid.
    - Otherwise: wait.
    """
    delivered = [s for s in states if s.status.delivered]
    complete = all(s.status.delivered for s in states)
    if day >= release_day(project, milestone):
        return Release.REPORT if delivered or not milestone.inputs else Release.EMPTY
    if complete and milestone.inputs and project.reports.release == "due-or-complete":
        return Release.REPORT
    return Release.WAIT


def contents_of(summary: WPSummary) -> VersionContents:
    """What a version keeps to say later what changed: the states and every table's totals."""
    return VersionContents(
        states=summary.partners,
        totals={t.label: dict(t.totals) for t in summary.tables},
    )


def changes_between(before: VersionContents, after: VersionContents, titles: Mapping[str, str]) -> list[str]:
    """What changed from one version to the next, one sentence per line, in people's words:
    inputs new, replaced or still missing, and every total that moved."""
    old = {(s.partner, s.kind): s for s in before.states}
    lines: list[str] = []
    still_missing: list[str] = []
    for s in after.states:
        prev = old.get((s.partner, s.kind))
        what = f"{s.city} ({kind_title(s.kind, titles)})"
        if s.status.delivered and (prev is None or not prev.status.delivered):
            lines.append(f"{what}: new, {s.file_name} delivered {s.status}.")
        elif s.status.delivered and prev is not None and prev.sha256 != s.sha256:
            lines.append(f"{what}: replaced by version {s.version} ({s.file_name}).")
        elif s.status == PartnerStatus.invalid and (prev is None or prev.status != PartnerStatus.invalid):
            lines.append(f"{what}: the newest file ({s.file_name}) has errors to correct.")
        elif s.status == PartnerStatus.missing:
            still_missing.append(what)
    lines += total_changes(before, after)
    if still_missing:
        lines.append("Still missing: " + ", ".join(still_missing) + ".")
    return lines


def total_changes(before: VersionContents, after: VersionContents) -> list[str]:
    """Every total that moved between two versions: 'Clusters, Firms: 120 → 135.'"""
    lines = []
    for label, totals in after.totals.items():
        for measure, value in totals.items():
            was = before.totals.get(label, {}).get(measure)
            if was != value:
                shown = "nothing" if was is None else format_value(was)
                lines.append(f"{label}, {measure}: {shown} → {format_value(value)}.")
    return lines


def version_label(version: int, as_of: date | None) -> str:
    """'v1 of 2005-06-19' — how a person names a version."""
    return f"v{version}" + (f" of {as_of.isoformat()}" if as_of else "")
