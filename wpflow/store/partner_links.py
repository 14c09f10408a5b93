"""Partners' page links as the store keeps them, and the page's access log.

A link's token is derived from a random value (`secrets.token_urlsafe`, 192 bits) and
WPFLOW_PARTNER_SECRET with HMAC-SHA256: the store keeps the random value and the token's
SHA-256, never the token. A request is looked up by the hash of the token it presents (one
indexed query whatever the token, so a wrong token costs what a right one does); whoever
holds the secret and the store can write the link again into an e-mail, whoever has the store
alone cannot. A rotated link is revoked, not deleted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import desc, select, update

from schemas.settings import Settings
from wpflow.store.engine import StoreBase
from wpflow.store.orm import PartnerAccessRow, PartnerLinkRow, utcnow

NONCE_BYTES = 24  # 192 random bits per link


def new_nonce() -> str:
    return secrets.token_urlsafe(NONCE_BYTES)


def link_token(secret: str, project: str, partner: str, nonce: str) -> str:
    """The token in a partner's link: HMAC-SHA256 of (project, partner, random value) under the
    secret, URL-safe, 43 characters (256 bits)."""
    digest = hmac.new(secret.encode(), f"{project}\n{partner}\n{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def page_url(settings: Settings, project: str, partner: str, nonce: str) -> str:
    """`<WPFLOW_PARTNER_URL>/p/<token>`: the link a partner is given (the secret must be set)."""
    if settings.partner_secret is None:
        raise ValueError("WPFLOW_PARTNER_SECRET is not set: partner links cannot be written without it")
    token = link_token(settings.partner_secret.get_secret_value(), project, partner, nonce)
    return f"{settings.partner_base_url}/p/{token}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class PartnerLink:
    """A link in force: whose, and the random value its token is derived from."""

    project: str
    partner: str
    nonce: str
    created_at: datetime


@dataclass(frozen=True)
class PartnerAccess:
    project: str
    partner: str
    at: datetime
    action: str
    detail: str


class PartnerLinks(StoreBase):
    def add_partner_link(self, project: str, partner: str, nonce: str, token_sha256: str) -> None:
        """Make (nonce, hash) the partner's link, revoking any earlier one in the same transaction."""
        now = utcnow()
        with self._transaction() as session:
            session.execute(
                update(PartnerLinkRow)
                .where(
                    PartnerLinkRow.project == project,
                    PartnerLinkRow.partner == partner,
                    PartnerLinkRow.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
            session.add(
                PartnerLinkRow(project=project, partner=partner, nonce=nonce, token_sha256=token_sha256, created_at=now)
            )

    def partner_links(self, project: str) -> dict[str, PartnerLink]:
        """Partner id → its link in force, for the project."""
        query = (
            select(PartnerLinkRow)
            .where(PartnerLinkRow.project == project, PartnerLinkRow.revoked_at.is_(None))
            .order_by(PartnerLinkRow.id)
        )
        with self._transaction() as session:
            return {
                r.partner: PartnerLink(project=r.project, partner=r.partner, nonce=r.nonce, created_at=r.created_at)
                for r in session.scalars(query)
            }

    def partner_for_token(self, token: str) -> tuple[str, str] | None:
        """(project, partner) of the link in force whose token is `token`, else None: looked up by
        the token's hash, compared in constant time."""
        wanted = token_hash(token)
        with self._transaction() as session:
            row = session.scalar(
                select(PartnerLinkRow).where(PartnerLinkRow.token_sha256 == wanted, PartnerLinkRow.revoked_at.is_(None))
            )
            if row is None or not hmac.compare_digest(row.token_sha256, wanted):
                return None
            return row.project, row.partner

    def log_partner_access(self, project: str, partner: str, action: str, detail: str) -> None:
        with self._transaction() as session:
            session.add(PartnerAccessRow(project=project, partner=partner, at=utcnow(), action=action, detail=detail))

    def partner_accesses(self, project: str, partner: str | None = None, limit: int = 1000) -> list[PartnerAccess]:
        """The newest accesses first, of the project (or one partner)."""
        query = select(PartnerAccessRow).where(PartnerAccessRow.project == project)
        if partner is not None:
            query = query.where(PartnerAccessRow.partner == partner)
        with self._transaction() as session:
            rows = session.scalars(query.order_by(desc(PartnerAccessRow.id)).limit(limit))
            return [PartnerAccess(r.project, r.partner, r.at, r.action, r.detail) for r in rows]
