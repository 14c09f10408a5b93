"""Two renderings of one document at the same moment (two workers, a person and the daily
ladder) each stage in a folder of their own: neither deletes the other's file, and nothing stays
behind in staging."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from schemas.records import ReportRef
from wpflow.issue.lifecycle import STAGING, Edition, write


def slow_document(reports: Path, started: threading.Barrier) -> SimpleNamespace:
    def render(edition: Edition, out: Path) -> ReportRef:
        started.wait(10)  # both renderings are in their staging folders before either moves on
        out.write_bytes(b"docx of " + out.parent.name.encode())
        time.sleep(0.05)
        return ReportRef(
            milestone_id="WP4-M3",
            path=str(out),
            sha256="0" * 64,
            template_sha256="0" * 64,
            generated_at=datetime.now(UTC),
        )

    return SimpleNamespace(
        ws=SimpleNamespace(settings=SimpleNamespace(reports_dir=reports)), report_id="WP4-M3", render=render
    )


def test_two_renderings_at_once_each_finish(tmp_path: Path):
    started = threading.Barrier(2)
    doc = slow_document(tmp_path, started)
    results: list[object] = []

    def one() -> None:
        try:
            results.append(write(doc, Edition(), tmp_path / "history", "WP4-M3.v1.docx"))  # type: ignore[arg-type]
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 2 and not [r for r in results if isinstance(r, Exception)], results
    assert (tmp_path / "history" / "WP4-M3.v1.docx").read_bytes().startswith(b"docx of WP4-M3.WP4-M3.v1.docx.")
    assert not list((tmp_path / STAGING).iterdir()), "something stayed in staging"


def test_a_killed_renderings_staging_is_swept_by_the_next_and_a_live_one_is_kept(tmp_path: Path):
    """kill -9 mid-render skips the cleanup: its folder goes when it is an hour old, a folder
    of a render in progress stays."""
    import os

    root = tmp_path / STAGING
    left, live = root / "WP4-M3.WP4-M3.docx.killed", root / "WP4-M3.WP4-M3.docx.running"
    for folder in (left, live):
        folder.mkdir(parents=True)
        (folder / "WP4-M3.docx").write_bytes(b"half")
    hour_ago = time.time() - 3601
    os.utime(left, (hour_ago, hour_ago))
    write(slow_document(tmp_path, threading.Barrier(1)), Edition(), tmp_path, "WP4-M3.docx")
    assert sorted(p.name for p in root.iterdir()) == [live.name]
