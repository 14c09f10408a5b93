"""`wpflow partners links`: printed, made once, rotated, e-mailed once per link."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path

from typer.testing import CliRunner

from wpflow.cli.app import app


def links(tmp_path: Path, *args: str) -> dict[str, dict]:
    env = {
        "WPFLOW_OUTPUTS": str(tmp_path / "outputs"),
        "WPFLOW_PARTNER_SECRET": "a test secret",
        "WPFLOW_PARTNER_URL": "https://partners.example.org/",
        "PREFECT_API_URL": None,
    }
    result = CliRunner().invoke(app, ["partners", "links", *args, "-f", "json"], env=env)
    assert result.exit_code == 0, result.output
    return {row["partner"]: row for row in json.loads(result.stdout)["links"]}


def outbox(tmp_path: Path) -> list:
    folder = tmp_path / "outputs" / "outbox" / "baltmet-inno"
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.glob("*.eml"))]


def test_links_are_made_once_rotated_on_request_and_mailed_once_per_link(tmp_path: Path) -> None:
    first = links(tmp_path)
    assert first["riga"]["link"].startswith("https://partners.example.org/p/")
    assert links(tmp_path) == first  # asked again: the same links

    rotated = links(tmp_path, "--rotate", "riga")
    assert rotated["riga"]["link"] != first["riga"]["link"] and rotated["riga"]["rotated"]
    assert {p: r["link"] for p, r in rotated.items() if p != "riga"} == {
        p: r["link"] for p, r in first.items() if p != "riga"
    }

    sent = links(tmp_path, "--send")
    assert all(row["emailed"] for row in sent.values())
    mails = outbox(tmp_path)
    assert len(mails) == len(sent)
    riga = next(m for m in mails if m["To"].addresses[0].addr_spec == "baltmet-inno@riga.example.org")
    body = riga.get_body(("plain",)).get_content()
    assert rotated["riga"]["link"] in body and "WP4-M3" in body
    assert riga["Subject"] == "[BaltMet Inno] your page for delivering inputs"

    assert not any(row["emailed"] for row in links(tmp_path, "--send").values())  # once per link
    again = links(tmp_path, "--rotate", "riga", "--send")
    assert [p for p, row in again.items() if row["emailed"]] == ["riga"]
    newest = outbox(tmp_path)
    assert len(newest) == len(sent) + 1
    assert any(
        "(new link)" in m["Subject"] and again["riga"]["link"] in m.get_body(("plain",)).get_content() for m in newest
    )


def test_an_unknown_partner_is_refused(tmp_path: Path) -> None:
    env = {"WPFLOW_OUTPUTS": str(tmp_path), "WPFLOW_PARTNER_SECRET": "s", "PREFECT_API_URL": None}
    result = CliRunner().invoke(app, ["partners", "links", "--rotate", "atlantis"], env=env)
    assert result.exit_code == 1 and "unknown partner 'atlantis'" in result.output
