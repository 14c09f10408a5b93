"""The mail tests' fixtures: a report to send (a fake DOCX) and a store to send it once from."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.records import ReportRef
from wpflow.store.store import Store


@pytest.fixture
def report(tmp_path: Path) -> ReportRef:
    path = tmp_path / "WP3-M2 Cluster mapping.docx"
    path.write_bytes(b"PK\x03\x04 fake docx \x00\xff" * 50)
    return ReportRef(
        milestone_id="WP3-M2",
        path=str(path),
        sha256="a" * 64,
        template_sha256="b" * 64,
        generated_at=datetime(2006, 7, 1, 8, 0, tzinfo=UTC),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'wpflow.db'}") as s:
        yield s
