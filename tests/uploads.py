"""Partner files as tests drop them into inboxes: a seed-funding CSV as partners send it and
the one way to put a file in a partner's milestone folder."""

from __future__ import annotations

from pathlib import Path

CSV_HEADER = "name;provider;level;instrument;budget_eur;ticket_min_eur;ticket_max_eur;since\n"


def seed_csv(name: str, budget: str = "2 000 000,00") -> bytes:
    """A seed-funding CSV as partners send it (`;`, decimal comma); a budget like 'about 2 mio'
    makes it invalid."""
    return (CSV_HEADER + f"{name};City;municipal;grant;{budget};;;\n").encode("cp1252")


def put(inbox: Path, partner: str, milestone: str, name: str, data: bytes) -> Path:
    """`data` as `inbox/<partner>/<milestone>/<name>` (folders made as needed)."""
    path = inbox / partner / milestone / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
