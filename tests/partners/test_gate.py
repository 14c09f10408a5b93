"""An upload meets the gate the folder's files meet, before any parser: a zip bomb sent
through the page is refused by the watcher's receiving path and shown refused on the page."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.inputs.files import zip_bomb
from wpflow.inbox.receive import receive_file
from wpflow.milestone.collect import InboxFile
from wpflow.partners.links import partner_links


def test_a_zip_bomb_uploaded_is_refused_by_the_gate_and_shown_refused(ws, client) -> None:
    riga = urlsplit(partner_links(ws)["riga"]).path
    bomb = zip_bomb()
    assert client.post(f"{riga}/WP4-M3/upload", files={"files": ("seed_funding_riga.xlsx", bomb)}).status_code == 303
    [path] = (ws.settings.inbox_root / "riga" / "WP4-M3").iterdir()
    assert path.read_bytes() == bomb

    received = receive_file(ws, InboxFile("riga", "WP4-M3", path))  # what the watcher does with it
    assert not received.result.valid and "zip bomb" in received.result.errors[0].message

    section = client.get(riga).text.split('<section id="WP4-M3">', 1)[1].split("</section>", 1)[0]
    assert ">refused<" in section and "zip bomb" in section
