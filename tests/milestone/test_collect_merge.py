"""Collect (archive first, ignore partial files, wait for stable files, as-of visibility) and
merge (versions, statuses, comparative tables, personal data kept out)."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from schemas.records import CheckedSubmission, Submission, ValidationResult
from wpflow.milestone.collect import archive_file, collect_milestone, is_ignored, list_inbox, wait_until_stable
from wpflow.milestone.merge import merge_summary


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "ignored"),
    [
        ("~$seed_funding.xlsx", True),
        (".~lock.seed.xlsx#", True),
        ("upload.part", True),
        ("x.tmp", True),
        (".hidden.csv", True),
        ("arrivals.yaml", True),
        ("seed_funding.xlsx", False),
        ("Rīga plan.docx", False),
    ],
)
def test_partial_and_editor_files_are_ignored(name, ignored):
    assert is_ignored(name) is ignored


def test_archive_is_content_addressed_and_idempotent(tmp_path):
    data = b"name;budget_eur\nRiga seed fund;1 000 000,00\n"
    a = write(tmp_path / "a" / "one.csv", data)
    b = write(tmp_path / "b" / "two.csv", data)
    archive = tmp_path / "archive"
    sha1, size1, path1 = archive_file(a, archive)
    sha2, _, path2 = archive_file(b, archive)
    assert sha1 == sha2 == hashlib.sha256(data).hexdigest()
    assert path1 == path2 == archive / sha1 and path1.read_bytes() == data and size1 == len(data)
    assert [p.name for p in archive.iterdir()] == [sha1]  # no temp files left behind


def test_symlinks_are_not_submissions(tmp_path):
    outside = write(tmp_path / "outside.csv", b"secret")
    folder = tmp_path / "inbox" / "riga" / "WP4-M3"
    folder.mkdir(parents=True)
    (folder / "link.csv").symlink_to(outside)
    write(folder / "real.csv", b"x")
    assert [f.path.name for f in list_inbox(tmp_path / "inbox", ["riga"], "WP4-M3")] == ["real.csv"]


def test_wait_until_stable_waits_for_a_slow_writer(tmp_path):
    path = write(tmp_path / "slow.csv", b"")
    chunks = [b"a" * 999 + b"\n"] * 5  # whole lines: the file never looks cut short, only the pauses hold it

    def slow_writer():
        with path.open("ab") as fh:
            for chunk in chunks:
                fh.write(chunk)
                fh.flush()
                time.sleep(0.15)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    st = wait_until_stable(path, 0.5, poll=0.05)
    thread.join()
    assert st.st_size == 5000  # read only once the whole file was there


def test_collect_archives_every_file_and_hides_later_arrivals(project, tmp_path):
    inbox = tmp_path / "inbox"
    write(inbox / "riga" / "WP4-M3" / "seed_funding_riga.csv", b"v2")
    write(inbox / "tallinn" / "WP4-M3" / "seed_funding_tallinn.csv", b"tallinn")
    write(inbox / "tallinn" / "WP4-M3" / "~$seed_funding_tallinn.xlsx", b"lock")
    write(inbox / "unknown-partner" / "WP4-M3" / "x.csv", b"?")
    (inbox / "arrivals.yaml").write_text(
        "riga/WP4-M3/seed_funding_riga.csv: 2006-06-20\ntallinn/WP4-M3/seed_funding_tallinn.csv: 2006-07-05\n"
    )
    m = project.milestone("WP4-M3")
    subs = collect_milestone(project, m, inbox_root=inbox, archive_dir=tmp_path / "archive", stable_seconds=0)
    assert sorted((s.partner, s.file_name, s.modified_at.date().isoformat()) for s in subs) == [
        ("riga", "seed_funding_riga.csv", "2006-06-20"),
        ("tallinn", "seed_funding_tallinn.csv", "2006-07-05"),
    ]
    assert all(Path(s.archive_path).read_bytes() in (b"v2", b"tallinn") for s in subs)
    early = collect_milestone(
        project, m, inbox_root=inbox, archive_dir=tmp_path / "archive", as_of=date(2006, 6, 30), stable_seconds=0
    )
    assert [s.partner for s in early] == ["riga"]


# -- merge ------------------------------------------------------------------------------
def checked(partner: str, rows=None, *, version=1, day="2006-06-20", valid=True, kind="seed_funding", document=None):
    sub = Submission(
        project="BaltMet Inno",
        partner=partner,
        milestone="WP4-M3",
        kind=kind,
        file_name=f"{kind}_{partner}_v{version}.csv",
        sha256=f"{partner}{version}".ljust(64, "0"),
        size=10,
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        modified_at=datetime.fromisoformat(day).replace(tzinfo=UTC),
        version=version,
        status="valid" if valid else "invalid",
        archive_path="/dev/null",
    )
    issues = (
        []
        if valid
        else [
            {
                "file": sub.file_name,
                "row": 2,
                "column": "E",
                "field": "budget_eur",
                "value": "about 2 mio",
                "message": "is not a number",
            }
        ]
    )
    result = ValidationResult(file=sub.file_name, kind=kind, rows=rows or [], issues=issues, document=document)
    return CheckedSubmission(submission=sub, result=result)


def scheme(name: str, budget: float, level="municipal") -> dict:
    return {
        "name": name,
        "provider": "City",
        "level": level,
        "instrument": "grant",
        "budget_eur": budget,
        "ticket_min_eur": None,
        "ticket_max_eur": None,
        "since": None,
    }


def test_merge_builds_comparative_table_with_totals_and_statuses(project):
    m = project.milestone("WP4-M3")
    inputs = [
        checked("helsinki", [scheme("Helsinki start-up grant", 2_000_000), scheme("Culminatum seed", 500_000)]),
        checked("malmo", [scheme("Malmö Innovationsfond", 750_000)], day="2006-07-10"),  # late
        checked("riga", [scheme("Riga seed", 400_000)], version=1),
        checked("riga", [], version=2, valid=False, day="2006-06-25"),  # broken re-upload
        checked("oslo", [scheme("Oslo Innovasjon", 900_000)]),  # observer, delivered voluntarily
    ]
    s = merge_summary(project, m, inputs, date(2006, 7, 31))
    table = s.tables[0]
    assert table.columns == ["Schemes", "Annual budget (EUR)"]
    assert [(r["city"], r["Schemes"], r["Annual budget (EUR)"]) for r in table.rows] == [
        ("Helsinki", 2, 2_500_000),
        ("Malmö", 1, 750_000),
        ("Riga", 1, 400_000),
        ("Oslo", 1, 900_000),
    ]
    assert table.totals == {"Schemes": 5, "Annual budget (EUR)": 4_550_000}
    status = {st.city: st.status for st in s.partners}
    assert status == {
        "Helsinki": "on time",
        "Berlin": "missing",
        "Copenhagen": "missing",
        "Malmö": "late",
        "Riga": "invalid",
        "Stockholm": "missing",
        "St. Petersburg": "missing",
        "Tallinn": "missing",
    }
    riga = next(st for st in s.partners if st.city == "Riga")
    assert (riga.version, riga.errors) == (2, 1)  # the status names the broken newest version…
    assert [i.version for i in s.inputs if i.partner == "riga"] == [1]  # …the data comes from the valid one
    assert s.missing == ["Berlin", "Copenhagen", "Stockholm", "St. Petersburg", "Tallinn"]
    assert s.status == "incomplete"
    assert [(mt.city, mt.month) for mt in s.meetings][:2] == [("Malmö", "2007-01"), ("Stockholm", "2007-03")]


def test_merge_keeps_personal_data_out(project):
    m = project.milestone("WP2-M1")
    row = {
        "organisation": "Riga Tourism Board",
        "type": "tourism board",
        "website": "https://riga.example.org",
        "contact_name": "Anna Bērziņa",
        "contact_role": "Director",
        "email": "anna@riga.example.org",
        "phone": "+371 6700 0000",
    }
    s = merge_summary(project, m, [checked("riga", [row], kind="marketing_contacts")], date(2005, 7, 1))
    table = next(t for t in s.tables if t.kind == "marketing_contacts")
    assert table.detail_columns == ["organisation", "type", "website", "contact_role"]
    flat = repr(s.model_dump())
    assert "Bērziņa" not in flat and "anna@riga" not in flat and "6700" not in flat


def test_merge_flattens_narratives_and_meeting_reports(project):
    m = project.milestone("WP5-M3")
    narrative = {"title": "Policy priorities", "sections": [{"heading": "Priorities", "text": "One.\n\nTwo."}]}
    report = {
        "title": "WP5 workshop",
        "date": "2007-02-14",
        "city": "Stockholm",
        "attendance": [{"city": "Stockholm", "participants": 12}, {"city": "Riga", "participants": 3}],
        "outcomes": ["Priorities agreed"],
        "sections": [],
    }
    s = merge_summary(
        project,
        m,
        [
            checked("stockholm", kind="progress_narrative", document=narrative),
            checked("stockholm", kind="meeting_report", document=report),
        ],
        date(2007, 7, 1),
    )
    assert [(b.city, b.title) for b in s.narratives] == [
        ("Stockholm", "Stockholm: Policy priorities"),
        ("Stockholm", "Stockholm: WP5 workshop"),
    ]
    assert s.narratives[0].paragraphs == ["### Priorities", "One.", "Two."]  # Markdown: the report shows a heading
    assert "Participants: 15 (Stockholm 12, Riga 3)" in s.narratives[1].paragraphs


@pytest.mark.parametrize(("claimed", "refused"), [("helsinki", True), ("riga", False), (None, False)])
def test_a_template_made_for_another_partner_is_refused_with_the_reason(settings, tmp_path, claimed, refused):
    """The folder says who sent a file; a generated template that names another partner in its
    hidden `_wpflow` sheet is refused (and still archived), naming both partners."""
    from openpyxl import Workbook

    from wpflow.milestone.stages import collect_stage, validate_stage
    from wpflow.workspace import workspace

    wb = Workbook()
    ws_data = wb.active
    ws_data.title = "Schemes"
    ws_data.append(["name", "provider", "level", "instrument", "budget_eur"])
    ws_data.append(["Riga Seed", "Riga City Council", "municipal", "grant", 1_000_000])
    if claimed:
        meta = wb.create_sheet("_wpflow")
        meta.sheet_state = "hidden"
        for row in (("kind", "seed_funding"), ("milestone", "WP4-M3"), ("partner", claimed)):
            meta.append(row)
    inbox = tmp_path / "inbox"
    (inbox / "riga" / "WP4-M3").mkdir(parents=True)
    wb.save(inbox / "riga" / "WP4-M3" / "seed_funding.xlsx")
    ws = workspace(settings=settings.model_copy(update={"inbox": inbox, "stable_seconds": 0}))
    milestone = ws.milestone("WP4-M3")
    [checked] = validate_stage(ws, milestone, collect_stage(ws, milestone, None))
    assert checked.result.valid is not refused
    assert Path(checked.submission.archive_path).is_file()
    if refused:
        issue = checked.result.errors[0]
        assert (issue.sheet, issue.field, issue.value) == ("_wpflow", "partner", "helsinki")
        assert "made for helsinki" in str(issue) and "riga's folder" in str(issue)
        assert checked.submission.status == "invalid"
