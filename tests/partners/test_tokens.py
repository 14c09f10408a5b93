"""Partner links: random, kept hashed in the store, rotated on request."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from wpflow.partners.links import partner_links, rotate_link
from wpflow.store.orm import PartnerLinkRow


def token_in(url: str) -> str:
    return url.rsplit("/p/", 1)[1]


def test_each_partner_has_a_link_kept_only_as_its_hash(ws) -> None:
    links = partner_links(ws)
    assert {"riga", "tallinn", "malmo"} <= set(links)
    assert links["riga"].startswith("https://partners.example.org/p/")
    token = token_in(links["riga"])
    assert len(token) >= 43  # 256 bits, URL-safe
    with ws.store._transaction() as session:
        rows = session.scalars(select(PartnerLinkRow)).all()
    stored = {(r.partner, r.token_sha256) for r in rows}
    assert ("riga", hashlib.sha256(token.encode()).hexdigest()) in stored
    assert all(token not in (r.token_sha256, r.nonce) for r in rows)  # never the token itself
    assert len({r.nonce for r in rows}) == len(rows)  # a random value of its own per link
    assert partner_links(ws) == links  # asked again: the same links, none made anew
    assert ws.store.partner_for_token(token) == (ws.project.name, "riga")


def test_rotating_a_link_invalidates_the_old_one(ws) -> None:
    old = token_in(partner_links(ws)["riga"])
    new = token_in(rotate_link(ws, "riga"))
    assert new != old
    assert ws.store.partner_for_token(old) is None
    assert ws.store.partner_for_token(new) == (ws.project.name, "riga")
    assert token_in(partner_links(ws)["riga"]) == new
    assert ws.store.partner_for_token(token_in(partner_links(ws)["tallinn"])) == (ws.project.name, "tallinn")


def test_a_wrong_token_finds_nobody(ws) -> None:
    token = token_in(partner_links(ws)["riga"])
    assert ws.store.partner_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert ws.store.partner_for_token("") is None
    assert ws.store.partner_for_token("../riga") is None
