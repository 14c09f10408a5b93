"""The ladder's letters after the due date, in people's words: the overdue notice and the last
call to a late partner itself, and the escalation to the lead partner.

Each says what has already happened to the milestone's report, from the versions the store
holds — "it went out on 30 June 2006 with your input marked as missing" — never what a fixed
text assumed would happen. Before the due date the reminder and, at T+1, the coordinator's
notice are still `wpflow.mail.compose.compose_reminder_email`'s: their templates are
reminder.*.j2 and escalation.*.j2.

Dates are "30 June 2006", partners their organisation and city, inputs their titles; no ids
but the milestone's, which is how the consortium names it. A partner is told how to deliver:
its own folder `inbox/<partner>/<milestone>/` (the project may one day name another way).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from email.message import EmailMessage

from schemas.project import Milestone, Participant, Project
from schemas.records import ReportVersion
from wpflow.inputs.partner_templates import template_files
from wpflow.issue.content import release_day
from wpflow.mail.compose import Attachment, compose
from wpflow.mail.words import folder_of, how_to_deliver
from wpflow.report.plain_words import kind_title, long_date

__all__ = ["compose_ladder_letter", "delivery_way", "missing_items", "owed_templates", "report_so_far"]

INVALID = " (invalid)"  # how `ladder.outstanding_in` marks an input whose file failed its checks


def missing_items(labels: Sequence[str], titles: Mapping[str, str]) -> list[dict[str, object]]:
    """`["seed_funding (invalid)"]` → `[{"title": "Public seed-funding schemes", "invalid": True}]`."""
    return [
        {"title": kind_title(label.removesuffix(INVALID), titles), "invalid": label.endswith(INVALID)}
        for label in labels
    ]


MIME = {
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".md": ("text", "markdown"),
}


def owed_templates(
    project: Project, milestone: Milestone, partner: Participant, labels: Sequence[str]
) -> list[Attachment]:
    """The templates of the inputs a partner still owes, to attach to the letter asking for them:
    filled in and sent back, each passes the checks its receipt reports."""
    kinds = {label.removesuffix(INVALID) for label in labels}
    return [
        Attachment(filename=name, data=data, mime=MIME[name[name.rfind(".") :]])
        for name, data in template_files(project, milestone.id, partner.id, kinds)
    ]


def delivery_way(project: Project, partner: Participant, milestone: Milestone) -> str:
    """Where the partner puts its files: its own milestone folder as the project's `delivery`
    names it (the watched folder every other way of delivering ends in too)."""
    return folder_of(project, partner, milestone.id)


def report_so_far(
    project: Project, milestone: Milestone, versions: Sequence[ReportVersion], day: date, *, whose: str, then: str
) -> str:
    """One true sentence on the milestone's report as of `day`, for a letter about late inputs.

    `whose` is what the report marks as missing ("your input", "their inputs"); `then` what a
    late input brings once there is a report. Only versions issued by `day` count: a replay's
    store may already hold later ones."""
    issued = sorted((v for v in versions if v.as_of <= day), key=lambda v: v.version)
    if not issued:
        opens = release_day(project, milestone)
        if day < opens:
            return f"The {milestone.id} report will go out on {long_date(opens)} with {whose} marked as missing."
        # nothing usable arrived (the coordinator and the lead were told so), or the run has not
        # happened yet: either way only this much is sure
        return f"No {milestone.id} report has gone out yet; when one does, it will mark {whose} as missing."
    first, later = issued[0], issued[1:]
    text = f"The {milestone.id} report went out on {long_date(first.as_of)} with {whose} marked as missing"
    if later:
        again = ", ".join(f"version {v.version} on {long_date(v.as_of)}" for v in later)
        text += f", and again as {again}"
    return f"{text}; {then}."


def plural_input(owner: str, count: int) -> str:
    """'your input', 'their inputs'."""
    return f"{owner} input{'s' if count != 1 else ''}"


def next_lead_day(project: Project, milestone: Milestone, after: date) -> date | None:
    """The day the lead partner is told (the ladder's first lead rung after `after`), if any."""
    days = [milestone.due + timedelta(days=r.offset_days) for r in project.deadlines.ladder if r.to == "lead"]
    later = [d for d in days if d > after]
    return min(later) if later else None


def compose_ladder_letter(
    project: Project,
    milestone: Milestone,
    recipient: Participant,
    *,
    kind: str,
    key: str,
    outstanding: dict[str, list[str]],
    versions: Sequence[ReportVersion],
    day: date,
) -> EmailMessage:
    """The overdue notice or last call to a late partner (`outstanding[recipient.id]` is what it
    owes), or the escalation to the lead (`outstanding` is who owes what)."""
    lead = project.participant(project.lead)
    context: dict[str, object] = {
        "milestone": milestone,
        "due": long_date(milestone.due),
        "day": long_date(day),
        "days_late": (day - milestone.due).days,
        "lead": lead,
        "coordinator": project.participant(project.work_package(milestone.wp_id).coordinator),
    }
    if kind in ("overdue", "last_call"):
        lead_day = next_lead_day(project, milestone, day)
        owed = outstanding.get(recipient.id, [])
        context |= {
            "missing": missing_items(owed, project.kind_titles),
            "folder": delivery_way(project, recipient, milestone),
            "how": how_to_deliver(project, recipient, milestone.id),
            "report": report_so_far(
                project,
                milestone,
                versions,
                day,
                whose=plural_input("your", len(owed)),
                then="once your file arrives and passes its checks, a new version will include it",
            ),
            "lead_day": long_date(lead_day) if lead_day else None,
        }
        attached = owed_templates(project, milestone, recipient, owed)
        context["attached"] = [a.filename for a in attached]
        return compose(
            kind,
            context,
            project=project,
            recipient=recipient,
            key=key,
            as_of=day,
            wp_id=milestone.wp_id,
            attachments=attached,
        )
    if kind != "escalation":
        raise ValueError(f"not a letter after the due date: {kind}")
    late = [
        {"partner": project.participant(pid), "missing": missing_items(labels, project.kind_titles)}
        for pid, labels in outstanding.items()
    ]
    owed_by_all = sum(len(labels) for labels in outstanding.values())
    context |= {
        "late": late,
        "report": report_so_far(
            project,
            milestone,
            versions,
            day,
            whose=plural_input("their", owed_by_all),
            then="a late input will make a new version",
        ),
    }
    return compose(
        "lead_escalation", context, project=project, recipient=recipient, key=key, as_of=day, wp_id=milestone.wp_id
    )
