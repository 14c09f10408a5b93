"""The partner × milestone matrix: where every partner stands on every milestone, from the store."""

from __future__ import annotations

from datetime import date
from typing import Any

from schemas.project import Project
from schemas.records import PartnerStatus, SubmissionStatus
from wpflow.milestone.merge import Delivery, partner_states

# Worst first: a cell shows the worst status over the milestone's required inputs.
SEVERITY = [PartnerStatus.invalid, PartnerStatus.missing, PartnerStatus.late, PartnerStatus.on_time]


def reading_store(settings):
    """The store opened to read only: not migrated (that writes), and for a SQLite file that does
    not exist yet an empty in-memory store instead of creating one under outputs/ — so `wpflow
    status` works on a read-only outputs folder. A store at another schema than the code is
    refused with what to run (`wpflow.db.SchemaMismatch`), never migrated from here."""
    from sqlalchemy.engine import make_url

    from wpflow.store.store import Store

    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        from pathlib import Path

        if not Path(url.database).exists():
            return Store("sqlite://")
    return Store(settings.db_url, migrate=False)


def deliveries_from_store(store, project: Project, milestone_id: str, as_of: date | None) -> list[Delivery]:
    """Validated submissions as deliveries; files not yet validated ('received') are not counted."""
    return as_deliveries(store.submissions(project.name, milestone=milestone_id), as_of).get(milestone_id, [])


def deliveries_by_milestone(store, project: Project, as_of: date | None) -> dict[str, list[Delivery]]:
    """`deliveries_from_store` for every milestone in one query: the daily ladder's view."""
    return as_deliveries(store.submissions(project.name), as_of)


def as_deliveries(submissions, as_of: date | None) -> dict[str, list[Delivery]]:
    out: dict[str, list[Delivery]] = {}
    for s in submissions:
        if s.kind is None or s.status == SubmissionStatus.received:
            continue
        if as_of is not None and s.modified_at.date() > as_of:
            continue
        out.setdefault(s.milestone, []).append(Delivery.of(s))
    return out


def status_matrix(project: Project, store, as_of: date | None = None) -> list[dict[str, Any]]:
    """One entry per milestone: its due date and, per partner that owes inputs, the worst status.

    Milestones not yet due on `as_of` show "open" instead of "missing" for what has not arrived.
    """
    rows = []
    for m in project.milestones():
        states = partner_states(project, m, deliveries_from_store(store, project, m.id, as_of))
        worst: dict[str, PartnerStatus] = {}
        for st in states:
            current = worst.get(st.partner)
            if current is None or SEVERITY.index(st.status) < SEVERITY.index(current):
                worst[st.partner] = st.status
        cells: dict[str, str] = dict(worst)
        if as_of is not None and as_of <= m.due:
            cells = {p: ("open" if v == PartnerStatus.missing else v) for p, v in worst.items()}
        rows.append({"milestone": m.id, "title": m.title, "due": m.due.isoformat(), "partners": cells})
    return rows
