"""People's words for e-mails: who someone is, how to deliver, by when, whom a reply reaches.

Every message to a partner says what to do next, so what the templates need to say it is
computed once here from the project definition (`delivery:` in project.yaml) — never an id, a
hash or a clock's time zone in a body: partners read organisations, cities and dates in words.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from schemas.project import Milestone, Participant, Project
from wpflow.report.plain_words import long_date


def who(person: Participant) -> str:
    """'City of Malmö, Business Development' names its city already; 'Culminatum Ltd, Helsinki'
    needs it — never the city in brackets after an organisation that says it."""
    if person.city.lower() in person.organisation.lower():
        return person.organisation
    return f"{person.organisation}, {person.city}"


def folder_of(project: Project, partner: Participant, milestone: str) -> str:
    return project.delivery.folder.format(partner=partner.id, milestone=milestone)


def partner_page(project: Project, partner: Participant) -> str | None:
    """The partner's own page link, when the partners' pages are configured and it has one."""
    return project.delivery.pages.get(partner.id)


def how_to_deliver(project: Project, partner: Participant, milestone: str) -> str:
    """One sentence, each configured way once: the partner's own folder always (it is where
    every way ends), then the partner's own page (or the project's upload page) and the e-mail
    intake when there are such."""
    delivery = project.delivery
    ways = [f"put the file in your folder {folder_of(project, partner, milestone)} on the project's shared drive"]
    if partner.id in delivery.pages:
        ways.append(f"upload it on your page {delivery.pages[partner.id]}")
    elif delivery.upload_link:
        ways.append(f"upload it at {delivery.upload_link.format(partner=partner.id, milestone=milestone)}")
    if delivery.intake_email:
        ways.append(f"e-mail it as an attachment to {delivery.intake_email} with {milestone} in the subject")
    sentence = ways[0] if len(ways) == 1 else ", ".join(ways[:-1]) + ", or " + ways[-1]
    return sentence[0].upper() + sentence[1:] + "."


def send_by(project: Project, milestone: Milestone, as_of: date) -> date:
    """The date a partner is asked to deliver by: the due date while it is ahead; after it, the
    last rung of the deadline ladder (when the lead partner is told), while that is ahead; after
    that, a week from the day of the message — a date, never just "as soon as possible"."""
    if as_of <= milestone.due:
        return milestone.due
    last = max((r.offset_days for r in project.deadlines.ladder), default=0)
    chase = milestone.due + timedelta(days=last)
    return chase if chase > as_of else as_of + timedelta(days=7)


def reply_person(project: Project, wp_id: str | None) -> Participant | None:
    """Who a reply reaches (`delivery.reply_to`): the WP co-ordinator of the message's work
    package (the lead for the joint report), the lead partner, or nobody but the secretariat."""
    choice = project.delivery.reply_to
    if choice == "secretariat":
        return None
    if choice == "wp-coordinator" and wp_id is not None:
        return project.participant(project.work_package(wp_id).coordinator)
    return project.participant(project.lead)


def rehearsal_note(as_of: date | None, today: date | None = None) -> str | None:
    """The first line of a message made for a day before the machine's: a rehearsal of the
    project's timeline, which a reader must not mistake for today's news."""
    today = today or datetime.now(UTC).date()
    if as_of is None or as_of >= today:
        return None
    return f"Rehearsal: this message was made as the project stood on {long_date(as_of)}, not today."


def names(people: list[Participant]) -> str:
    """'A, B and C'."""
    words = [who(p) for p in people]
    return words[0] if len(words) == 1 else "; ".join(words[:-1]) + " and " + words[-1] if words else ""


def text_blocks(text: str) -> list[tuple[str, list[str]]]:
    """The plain text's paragraphs ("p", lines) and lists ("ul", items: lines starting "- "),
    for the HTML layout: the HTML says exactly what the text says."""
    blocks: list[tuple[str, list[str]]] = []
    for chunk in text.strip().split("\n\n"):
        lines = [line.rstrip() for line in chunk.split("\n") if line.strip()]
        paragraph = [line for line in lines if not line.lstrip().startswith("- ")]
        items = [line.lstrip()[2:] for line in lines if line.lstrip().startswith("- ")]
        if paragraph:
            blocks.append(("p", [line.strip() for line in paragraph]))
        if items:
            blocks.append(("ul", items))
    return blocks
