"""Each partner's secret link to its page: made when first needed, rotated on request (the old
one stops working at once), written out with WPFLOW_PARTNER_SECRET. The store keeps only each
token's hash and the random value it is derived from (`wpflow.store.partner_links`)."""

from __future__ import annotations

import logging
from email.message import EmailMessage

from schemas.project import Participant
from schemas.records import Notice
from wpflow.partners.status import partner_milestones
from wpflow.store.partner_links import link_token, new_nonce, page_url, token_hash
from wpflow.workspace import Workspace

log = logging.getLogger(__name__)
LINKS_MILESTONE = "partner-page"  # what the store's notifications table names these e-mails' milestone


class LinksUnavailable(RuntimeError):
    """The links cannot be written: WPFLOW_PARTNER_SECRET is not set (one line for the CLI)."""


def secret_of(ws: Workspace) -> str:
    if ws.settings.partner_secret is None:
        raise LinksUnavailable(
            "WPFLOW_PARTNER_SECRET is not set: set it to a long random value, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'` (docs/partners.md)"
        )
    return ws.settings.partner_secret.get_secret_value()


def partners_with_pages(ws: Workspace) -> list[str]:
    """Every participant that owes an input of some milestone, in the project's order."""
    return [p.id for p in ws.project.participants if partner_milestones(ws.project, p.id)]


def make_link(ws: Workspace, partner_id: str) -> str:
    """A new link for the partner (any earlier one is revoked); its URL."""
    secret = secret_of(ws)
    ws.project.participant(partner_id)  # KeyError for an unknown partner
    nonce = new_nonce()
    ws.store.add_partner_link(
        ws.project.name, partner_id, nonce, token_hash(link_token(secret, ws.project.name, partner_id, nonce))
    )
    log.info("%s: a new page link for %s (any earlier one revoked)", ws.project.name, partner_id)
    return page_url(ws.settings, ws.project.name, partner_id, nonce)


def partner_links(ws: Workspace) -> dict[str, str]:
    """Partner id → its page URL, making the links not made yet."""
    secret_of(ws)
    links = ws.store.partner_links(ws.project.name)
    urls = {}
    for pid in partners_with_pages(ws):
        link = links.get(pid)
        urls[pid] = make_link(ws, pid) if link is None else page_url(ws.settings, ws.project.name, pid, link.nonce)
    return urls


def rotate_link(ws: Workspace, partner_id: str) -> str:
    """A new link for the partner; the old one answers 404 from now on."""
    return make_link(ws, partner_id)


def send_links(ws: Workspace, urls: dict[str, str], rotated: frozenset[str] = frozenset()) -> list[Notice]:
    """E-mail each partner in `urls` its link, once per link and address (the send-once loop):
    asked again, a link already sent is not sent again; a rotated one is new, so it is."""
    from wpflow.mail.compose import compose
    from wpflow.mail.idempotency import partner_link_key
    from wpflow.mail.send_once import Outgoing, send_once
    from wpflow.store.issued import About

    project, links = ws.project, ws.store.partner_links(ws.project.name)
    outgoing = []
    for pid, url in urls.items():
        partner = project.participant(pid)
        address = partner.emails[0]
        context = {
            "page": url,
            "milestones": [m.id for m in partner_milestones(project, pid)],
            "rotated": pid in rotated,
        }
        key = partner_link_key(project.name, pid, address, links[pid].nonce)

        def message(context: dict = context, partner: Participant = partner, key: str = key) -> EmailMessage:
            return compose("partner_link", context, project=project, recipient=partner, key=key)

        outgoing.append(Outgoing(key, address, "partner-link", LINKS_MILESTONE, About(), message))
    return send_once(ws.store, ws.mailer, project.name, outgoing)
