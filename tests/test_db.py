"""Migrations: a new database, an old one from before migrations, and the models never drifting
from the migrations — on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from wpflow import db
from wpflow.store import Base, Store, make_engine


def columns(engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_a_new_store_is_at_head_and_matches_the_models(db_url):
    store = Store(db_url)
    assert db.current(store.engine) == db.head()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], "models changed without a migration: run alembic revision --autogenerate"
    store.close()


def test_a_database_from_before_migrations_is_stamped_and_upgraded_keeping_its_rows(db_url):
    engine = make_engine(db_url)
    db.upgrade(engine, "0001")
    with engine.begin() as conn:  # what wpflow 0.1's create_all left: tables, no alembic_version
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("INSERT INTO milestone_runs (project, milestone, as_of, started_at, status) "
                          "VALUES ('baltmet-inno', 'WP4-M3', '2006-07-31', '2006-07-31 08:00:00', 'completed')"))
    assert "error" not in columns(engine, "milestone_runs")
    store = Store(db_url)
    assert db.current(store.engine) == db.head()
    assert "error" in columns(store.engine, "milestone_runs")
    [run] = store.runs("baltmet-inno")
    assert (run.milestone, run.as_of, run.status, run.error) == ("WP4-M3", date(2006, 7, 31), "completed", None)
    store.close()
    engine.dispose()


def test_downgrade_then_upgrade_round_trips(db_url):
    engine = make_engine(db_url)
    assert db.upgrade(engine) == "0002"
    assert db.downgrade(engine, "0001") == "0001"
    assert "error" not in columns(engine, "milestone_runs")
    assert db.upgrade(engine) == "0002"
    assert "error" in columns(engine, "milestone_runs")
    engine.dispose()


def test_db_commands_report_and_apply_revisions(settings, monkeypatch):
    from wpflow.cli import app

    monkeypatch.setenv("WPFLOW_OUTPUTS", str(settings.outputs))
    runner = CliRunner()
    before = runner.invoke(app, ["db", "current"])
    assert before.exit_code == 0 and "(empty)" in before.output and "behind" in before.output
    up = runner.invoke(app, ["db", "upgrade"])
    assert up.exit_code == 0 and "(empty) → 0002" in up.output
    after = runner.invoke(app, ["db", "current", "--format", "json"])
    assert '"up_to_date": true' in after.output
    history = runner.invoke(app, ["db", "history"]).output.splitlines()
    assert [line.split()[0] for line in history] == ["0001", "0002"]


@pytest.mark.parametrize("revision", ["0001", "0002"])
def test_every_revision_has_a_message(revision):
    assert dict(db.history())[revision].strip()
