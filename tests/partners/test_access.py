"""Who sees what on the partners' pages: a link shows its partner's page and nothing else; any
other link or path is the same 404; an upload lands in the partner's folder under an escaped
name; reports are served only to the partners they were sent to."""

from __future__ import annotations

from tests.partners.reports import sent_report
from wpflow.partners.links import partner_links, rotate_link

CSV = b"name;provider;level;instrument;budget_eur;ticket_min_eur;ticket_max_eur;since\nA;B;municipal;grant;1;;;2005\n"


def paths(ws) -> dict[str, str]:
    return {pid: url.removeprefix("https://partners.example.org") for pid, url in partner_links(ws).items()}


def test_the_page_shows_the_partners_milestones_templates_and_states(ws, client) -> None:
    riga = paths(ws)["riga"]
    page = client.get(riga)
    assert page.status_code == 200
    text = page.text
    assert "Riga" in text and 'id="WP4-M3"' in text
    wp4m3 = text[text.index('<section id="WP4-M3"') :]
    wp4m3 = wp4m3[: wp4m3.index("</section>")]
    assert "Public seed-funding schemes" in wp4m3 and ">missing<" in wp4m3
    assert "Due 30 June 2006" in wp4m3
    assert f"{riga}/templates/WP4-M3_seed_funding_riga.xlsx" in wp4m3
    assert page.headers["referrer-policy"] == "no-referrer" and 'name="viewport"' in text
    template = client.get(f"{riga}/templates/WP4-M3_seed_funding_riga.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"
    rows = ws.store.partner_accesses(ws.project.name, "riga")
    assert [r.action for r in rows] == ["template", "view"]


def test_riga_s_link_opens_nothing_of_tallinn_and_wrong_links_are_one_404(ws, client) -> None:
    links = paths(ws)
    riga, tallinn = links["riga"], links["tallinn"]
    missing_page = client.get("/nothing/here")
    assert missing_page.status_code == 404
    riga_only = next(m.id for m in ws.project.milestones() if _owes(ws, "tallinn", m) and not _owes(ws, "riga", m))
    answers = [
        client.get(f"{riga}/templates/WP4-M3_seed_funding_tallinn.xlsx"),
        client.post(f"{riga}/{riga_only}/upload", files={"files": ("x.csv", CSV)}),
        client.get(riga.replace(riga[-5:], "AAAAA")),  # a wrong token
        client.get("/p/" + "A" * 43),
        client.get(f"/p/{tallinn.rsplit('/', 1)[1]}x"),
        client.get(f"{riga}/WP4-M3/upload"),  # a GET on the upload URL
        client.get("/p/"),
        client.get(f"{riga}/reports/"),
    ]
    assert [a.status_code for a in answers] == [404] * len(answers)
    assert {a.text for a in answers} == {missing_page.text}
    assert not (ws.settings.inbox_root / "riga" / riga_only).exists()
    old = riga
    rotate_link(ws, "riga")
    assert client.get(old).text == missing_page.text  # a rotated link is a wrong link


def _owes(ws, partner: str, milestone) -> bool:
    return any(partner in {p.id for p in ws.project.deliverers(r)} for r in milestone.inputs)


def test_an_upload_lands_in_the_partner_s_folder_under_an_escaped_name(ws, client) -> None:
    riga = paths(ws)["riga"]
    sent = client.post(
        f"{riga}/WP4-M3/upload",
        files=[("files", ("../../tallinn/WP4-M3/seed.csv", CSV)), ("files", ("..\\evil  name.csv", CSV))],
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"{riga}#WP4-M3"
    folder = ws.settings.inbox_root / "riga" / "WP4-M3"
    assert sorted(p.name for p in folder.iterdir()) == ["evil name.csv", "seed.csv"]
    assert not (ws.settings.inbox_root / "tallinn").exists()
    page = client.get(riga).text
    assert "seed.csv received" in page and "received, receipt pending" in page
    assert 'http-equiv="refresh"' in page  # reloads until the receipt is there
    actions = [(r.action, r.detail) for r in ws.store.partner_accesses(ws.project.name, "riga")]
    assert ("upload", f"WP4-M3: ../../tallinn/WP4-M3/seed.csv as seed.csv ({len(CSV)} bytes)") in actions


def test_reports_are_served_to_the_partners_they_were_sent_to_only(ws, client, tmp_path) -> None:
    links = paths(ws)
    reports = ws.settings.reports_dir / "history"
    riga_address = ws.project.participant("riga").emails[0]
    sent_report(ws.store, ws.project.name, "WP4-M3", reports / "WP4-M3.v1.docx", [riga_address])
    sent_report(ws.store, ws.project.name, "WP4-M1", reports / "WP4-M1.v1.docx", ["someone@else.example"])
    sent_report(ws.store, "Another project", "WP4-M2", reports / "WP4-M2.v1.docx", [riga_address])
    (ws.settings.reports_root / "other").mkdir(parents=True)
    (ws.settings.reports_root / "other" / "secret.docx").write_bytes(b"other project")

    riga = links["riga"]
    assert client.get(f"{riga}/reports/WP4-M3.v1.docx").content == b"PK report of WP4-M3"
    assert "WP4-M3.v1.docx" in client.get(riga).text
    refused = [
        f"{riga}/reports/WP4-M1.v1.docx",  # not sent to Riga
        f"{riga}/reports/WP4-M2.v1.docx",  # another project's
        f"{riga}/reports/..%2F..%2Fother%2Fsecret.docx",
        f"{riga}/reports/secret.docx",
        f"{links['tallinn']}/reports/WP4-M3.v1.docx",  # Riga's report on Tallinn's link
    ]
    assert [client.get(url).status_code for url in refused] == [404] * len(refused)


def test_due_dates_are_said_in_words() -> None:
    from datetime import date

    from wpflow.partners.status import due_words

    due = date(2006, 6, 30)
    assert due_words(due, date(2006, 6, 30)) == "due 30 June 2006 (today)"
    assert due_words(due, date(2006, 6, 25)) == "due 30 June 2006 (in 5 days)"
    assert due_words(due, date(2006, 7, 1)) == "due 30 June 2006 (1 day ago)"
    assert due_words(due, date(2006, 10, 1)) == "due 30 June 2006 (about 3 months ago)"
    assert due_words(due, date(2026, 12, 7)) == "due 30 June 2006 (over 20 years ago)"
