"""A report version as the store records one issued and e-mailed: for the tests of which
reports a partner's page serves."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from schemas.records import ReportRef, ReportStatus, VersionContents


def sent_report(store, project: str, milestone: str, path: Path, recipients: list[str]) -> None:
    """`path` (written here) as version 1 of `milestone`, e-mailed to `recipients`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK report of " + milestone.encode())
    contents = VersionContents(states=[], totals={})
    version, _ = store.issue_version(
        project,
        milestone,
        fingerprint="f" * 64,
        status=ReportStatus.complete,
        as_of=date(2006, 7, 1),
        contents=contents,
    )
    ref = ReportRef(
        milestone_id=milestone,
        path=str(path),
        sha256="0" * 64,
        template_sha256="0" * 64,
        generated_at=datetime.now(UTC),
        version=version.version,
    )
    store.set_version_report(project, milestone, version.version, ref)
    from wpflow.store.issued import About

    for address in recipients:
        key = f"report {project} {milestone} {address}"
        assert store.claim_notification(
            key, project=project, milestone=milestone, recipient=address, kind="report", about=About(report_version=1)
        )
        store.mark_sent(key, "outbox", None)
