"""Migrations: a new database, an old one from before migrations, the models never drifting
from the migrations, and the rule of who migrates (SQLite on open; PostgreSQL only through
`wpflow db upgrade`, which a store at another schema asks for) — on SQLite and on the real
PostgreSQL server."""

from __future__ import annotations

from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from wpflow.store import migrate
from wpflow.store.engine import make_engine
from wpflow.store.orm import Base
from wpflow.store.store import Store


def columns(engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_a_new_store_is_at_head_and_matches_the_models(db_url):
    store = Store(db_url)
    assert migrate.current(store.engine) == migrate.head()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], "models changed without a migration: run alembic revision --autogenerate"
    store.close()


def test_a_database_from_before_migrations_is_stamped_and_upgraded_keeping_its_rows(empty_db_url):
    db_url = empty_db_url
    engine = make_engine(db_url)
    migrate.upgrade(engine, migrate.BASELINE)
    with engine.begin() as conn:  # what wpflow 0.1's create_all left: tables, no alembic_version
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(
            text(
                "INSERT INTO milestone_runs (project, milestone, as_of, started_at, status) "
                "VALUES ('baltmet-inno', 'WP4-M3', '2006-07-31', '2006-07-31 08:00:00', 'completed')"
            )
        )
    assert "error" not in columns(engine, "milestone_runs")
    if not migrate.automatic(engine):  # PostgreSQL: the operator upgrades, the store only asks for it
        with pytest.raises(migrate.SchemaMismatch, match=r"has no schema yet.*wpflow db upgrade"):
            Store(db_url)
        assert migrate.upgrade(engine) == (None, migrate.head())
    store = Store(db_url)
    assert migrate.current(store.engine) == migrate.head()
    assert "error" in columns(store.engine, "milestone_runs")
    [run] = store.runs("baltmet-inno")
    assert (run.milestone, run.as_of, run.status, run.error) == ("WP4-M3", date(2006, 7, 31), "completed", None)
    store.close()
    engine.dispose()


def test_downgrade_then_upgrade_round_trips(empty_db_url):
    engine = make_engine(empty_db_url)
    first = migrate.history()[0][0]
    assert migrate.upgrade(engine) == (None, migrate.head())
    assert migrate.upgrade(engine) == (migrate.head(), migrate.head()), "a second upgrade does nothing"
    assert migrate.downgrade(engine, first) == (migrate.head(), first)
    assert "error" not in columns(engine, "milestone_runs")
    assert migrate.upgrade(engine) == (first, migrate.head())
    assert "error" in columns(engine, "milestone_runs")
    engine.dispose()


def test_0003_moves_claims_reports_and_what_a_notification_is_about_into_their_own_columns(empty_db_url, monkeypatch):
    db_url = empty_db_url
    engine = make_engine(db_url)
    migrate.upgrade(engine, "0002")
    rows = [
        ("k-run", "run", "pipeline", "run:WP4-M3:inputs:abc"),
        ("k-rec", "receipt", "riga@x.org", "f" * 64),
        ("k-rem", "reminder", "riga@x.org", "T-14"),
        ("k-rep", "report", "riga@x.org", "d" * 64),
    ]
    with engine.begin() as conn:
        for key, kind, recipient, ref in rows:
            conn.execute(
                text(
                    "INSERT INTO notifications (key, project, milestone, recipient, kind, report_sha, "
                    "claimed_at, sent_at, transport, message_id) VALUES (:k, 'P', 'WP4-M3', :r, :kind, "
                    ":ref, '2006-07-01 07:00:00', '2006-07-01 07:00:01', 'outbox', 'mid')"
                ),
                {"k": key, "r": recipient, "kind": kind, "ref": ref},
            )
        conn.execute(
            text(
                "INSERT INTO reports (project, milestone, path, sha256, template_sha256, generated_at) "
                "VALUES ('P', 'WP4-M3', '/r/WP4-M3.docx', :sha, 't', '2006-07-01 00:00:00')"
            ),
            {"sha": "d" * 64},
        )
    migrate.upgrade(engine, "0005")  # 0006 hashes the keys with their project (its own test)
    monkeypatch.setattr(migrate, "require_head", lambda engine: None)  # read at 0005, as the code of 0005 did
    store = Store(db_url, migrate=False)
    by_key = {n.key: n for n in store.notifications("P")}
    assert set(by_key) == {"k-rec", "k-rem", "k-rep"}, "run claims are not e-mails"
    assert by_key["k-rec"].submission_sha256 == "f" * 64 and by_key["k-rem"].rung == "T-14"
    [claim] = store.claims("P")
    assert (claim.key, claim.purpose, claim.result) == ("k-run", "run", "mid") and claim.done_at is not None
    [version] = store.versions("P")
    assert (version.version, version.status) == (1, "legacy") and version.report.sha256 == "d" * 64
    assert "reports" not in inspect(store.engine).get_table_names()
    store.close()
    assert migrate.downgrade(engine, "0002").after == "0002"
    with engine.connect() as conn:
        kinds = sorted(conn.execute(text("SELECT kind, report_sha FROM notifications")).all())
    assert ("receipt", "f" * 64) in kinds and ("run", None) in kinds and ("reminder", "T-14") in kinds
    engine.dispose()


def test_db_commands_report_and_apply_revisions(configure):
    from wpflow.cli.app import app

    configure()
    runner = CliRunner()
    before = runner.invoke(app, ["db", "current"])
    assert before.exit_code == 0 and "(empty)" in before.output and "behind" in before.output
    up = runner.invoke(app, ["db", "upgrade"])
    assert up.exit_code == 0 and f"(empty) → {migrate.head()}" in up.output
    again = runner.invoke(app, ["db", "upgrade"])
    assert again.exit_code == 0 and f"at {migrate.head()} already, nothing to do" in again.output
    after = runner.invoke(app, ["db", "current", "--format", "json"])
    assert '"up_to_date": true' in after.output
    history = runner.invoke(app, ["db", "history"]).output.splitlines()
    assert [line.split()[0] for line in history] == [revision for revision, _ in migrate.history()]
    assert history[-1].split()[0] == migrate.head()


def test_every_revision_has_a_message():
    assert all(message.strip() for _, message in migrate.history())


def test_0004_adds_owners_and_the_receipt_retry_queue(empty_db_url):
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0003")
    assert "owner" not in columns(engine, "claims")
    migrate.upgrade(engine, "0004")
    assert all("owner" in columns(engine, t) for t in ("claims", "notifications", "milestone_runs"))
    assert "receipt_retries" in inspect(engine).get_table_names()
    assert migrate.downgrade(engine, "0003").after == "0003"
    assert "receipt_retries" not in inspect(engine).get_table_names()
    assert "owner" not in columns(engine, "notifications")
    engine.dispose()


# -- who migrates: SQLite on open, PostgreSQL only by `wpflow db upgrade` -----------------------
def one_behind(url: str):
    """An engine on `url` whose database is one revision behind the code's head."""
    engine = make_engine(url)
    migrate.upgrade(engine, migrate.history()[-2][0])
    return engine


def test_a_store_behind_the_code_migrates_itself_on_sqlite_and_is_refused_on_postgres(empty_db_url):
    engine = one_behind(empty_db_url)
    previous = migrate.current(engine)
    if migrate.automatic(engine):
        with Store(empty_db_url) as store:
            assert migrate.current(store.engine) == migrate.head()
        return
    with pytest.raises(migrate.SchemaMismatch) as refused:
        Store(empty_db_url)
    assert str(refused.value) == (
        f"the store at {migrate.where(engine)} is at schema {previous}, older than this wpflow's {migrate.head()}: "
        "run `wpflow db upgrade` against it once (WPFLOW_DATABASE_URL or --database-url), then start again"
    )
    assert migrate.current(engine) == previous, "refusing writes nothing"
    engine.dispose()


def test_a_store_newer_than_the_code_is_refused_everywhere(empty_db_url):
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine)
    unknown = f"{int(migrate.head()) + 1:04d}"  # what a newer wpflow's next migration would be
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": unknown})
    for attempt in (lambda: Store(empty_db_url), lambda: migrate.upgrade(engine)):
        with pytest.raises(migrate.SchemaMismatch, match=f"at schema {unknown}, newer than this wpflow knows"):
            attempt()
    assert migrate.current(engine) == unknown
    engine.dispose()


@pytest.mark.parametrize("command", [["status"], ["run", "WP4-M3", "--direct", "--as-of", "2006-07-31"]])
def test_commands_refuse_a_store_behind_with_one_line_and_exit_2_and_status_never_migrates(
    command, empty_db_url, configure
):
    """On SQLite `status` refuses (it only reads) while `run` migrates; on PostgreSQL both refuse."""
    from wpflow.cli.app import app

    engine = one_behind(empty_db_url)
    previous = migrate.current(engine)
    configure(database_url=empty_db_url)
    result = CliRunner().invoke(app, command)
    if command[0] == "run" and migrate.automatic(engine):
        assert result.exit_code == 0, result.output
        assert migrate.current(engine) == migrate.head()
        return
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: the store at {migrate.where(engine)} is at schema {previous}, older than")
    assert "run `wpflow db upgrade`" in line
    assert migrate.current(engine) == previous
    assert migrate.upgrade(engine) == (previous, migrate.head())
    assert CliRunner().invoke(app, command).exit_code == 0
    engine.dispose()


def test_two_upgrades_at_once_one_migrates_and_the_other_then_finds_the_head(empty_db_url):
    """Two connections as two processes would hold them: the lock (PostgreSQL's advisory lock,
    SQLite's write lock) makes the second wait and then do nothing."""
    from concurrent.futures import ThreadPoolExecutor

    engines = [make_engine(empty_db_url) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        steps = list(pool.map(migrate.upgrade, engines))
    assert sorted(steps, key=str) == sorted([(None, migrate.head()), (migrate.head(), migrate.head())], key=str)
    for engine in engines:
        engine.dispose()


def test_0006_moves_the_stored_keys_into_their_project(empty_db_url):
    """An e-mail sent and a run claimed before keys carried the project are still known as
    such afterwards: nothing goes out twice; and the hash cannot be undone, so no downgrade."""
    import hashlib

    import pytest

    from wpflow.mail.idempotency import in_project, report_key, run_key

    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0005")
    before = hashlib.sha256("\x1f".join(["report", "WP4-M3", "riga@x.org", "d" * 64]).encode()).hexdigest()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO notifications (key, project, milestone, recipient, kind, claimed_at, sent_at) "
                "VALUES (:k, 'BaltMet Inno', 'WP4-M3', 'riga@x.org', 'report', '2006-07-01 07:00:00', "
                "'2006-07-01 07:00:01')"
            ),
            {"k": before},
        )
        conn.execute(
            text(
                "INSERT INTO claims (key, project, milestone, purpose, claimed_at) "
                "VALUES (:k, 'BaltMet Inno', 'WP4-M3', 'run', '2006-07-01 07:00:00')"
            ),
            {"k": run_key("WP4-M3", "abc")},
        )
    migrate.upgrade(engine)  # as `wpflow db upgrade` does (PostgreSQL is never migrated on open)
    store = Store(empty_db_url)
    assert store.was_sent(report_key("BaltMet Inno", "WP4-M3", "riga@x.org", "d" * 64))
    assert not store.was_sent(report_key("Other Inno", "WP4-M3", "riga@x.org", "d" * 64))
    [claim] = store.claims("BaltMet Inno")
    assert claim.key == in_project("BaltMet Inno", run_key("WP4-M3", "abc"))
    store.close()
    with pytest.raises(RuntimeError, match="cannot be undone"):
        migrate.downgrade(engine, "0005")
    assert migrate.current(engine) == migrate.head(), "refused as a whole: nothing was downgraded"
    engine.dispose()


def test_0007_lets_an_earlier_content_come_back_and_refuses_to_go_back_once_one_has(empty_db_url):
    """Before 0007 a content could be one version only; after it, v3 may carry v1's content. A
    store without such a pair goes back; one with it is refused (an older wpflow breaks on it)."""
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0006")
    insert = text(
        "INSERT INTO report_versions (project, milestone, version, fingerprint, status, as_of, contents, issued_at) "
        "VALUES ('BaltMet Inno', 'WP3-M1', :v, :f, 'complete', '2005-09-30', '{}', '2005-09-30 08:00:00')"
    )
    with engine.begin() as conn:
        conn.execute(insert, {"v": 1, "f": "a" * 64})
        conn.execute(insert, {"v": 2, "f": "b" * 64})
    migrate.upgrade(engine)
    assert migrate.downgrade(engine, "0006") == (migrate.head(), "0006"), "no content came back: it may go back"
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert, {"v": 3, "f": "a" * 64})
    with pytest.raises(RuntimeError, match="WP3-M1 has a content issued as two versions"):
        migrate.downgrade(engine, "0006")
    assert migrate.current(engine) == migrate.head()
    engine.dispose()
