"""The store tests' fixture: a `Store` on `db_url` (SQLite and the real PostgreSQL server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wpflow.store.store import Store


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store(db_url) as s:
        yield s
