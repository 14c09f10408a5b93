"""Validation on a Dask cluster (WPFLOW_DASK_ADDRESS=local): the same milestone run as on the thread
runner — the same report, store rows and e-mails — with its validation run in the cluster's
worker processes, which rebuild their context from the tasks' arguments and their environment.

A real LocalCluster of two processes, the real ephemeral Prefect API of the harness, the store on
SQLite and on the PostgreSQL server.
"""

from __future__ import annotations

import csv
import io
import os
import re
import uuid
import zipfile
from datetime import date
from pathlib import Path

import pytest
from docx import Document

from schemas.settings import Settings
from tasks.validate import PARTNERS_PER_BATCH
from tests.conftest import POSTGRES_URL, parse_eml

MILESTONE, AS_OF = "WP4-M3", date(2006, 7, 31)
HEADER = ["name", "provider", "level", "instrument", "budget_eur", "ticket_min_eur", "ticket_max_eur", "since"]
# four partner batches (one with a broken file), so two worker processes each get some
SCHEMES = {
    "helsinki": [("Helsinki Start-up Grant", "municipal", "grant", "2 000 000,00")],
    "malmo": [("Malmö Innovationsfond", "municipal", "equity", "750 000,00")],
    "tallinn": [
        ("Tallinn Seed Fund", "municipal", "loan", "120 000,00"),
        ("Tehnopol Start", "regional", "grant", "80 000"),
    ],
    "riga": [("Riga Seed", "municipal", "grant", "about 2 mio")],
}
# what differs between two runs by construction: row ids, clocks, the flow run, where outputs are
VOLATILE = {"id", "submission_id", "flow_run_id", "owner", "received_at", "modified_at", "started_at"}
CLOCK_IN_JSON = re.compile(r'"(received_at)":"[^"]*"')
ZIPS = (".docx", ".xlsx")
VOLATILE |= {"finished_at", "claimed_at", "sent_at", "issued_at", "generated_at"}


@pytest.fixture(scope="module")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def local_cluster():
    """This process's LocalCluster is closed after the test: the rest of the session has none."""
    from tasks.dask_runner import close_local_cluster

    yield
    close_local_cluster()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    for partner, rows in SCHEMES.items():
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(
            [name, "City", level, instrument, budget, "", "", ""] for name, level, instrument, budget in rows
        )
        path = folder / partner / MILESTONE / f"seed_funding_{partner}.csv"
        path.parent.mkdir(parents=True)
        path.write_text(buf.getvalue(), encoding="utf-8")
    (folder / "arrivals.yaml").write_text(
        "".join(f"{p}/{MILESTONE}/seed_funding_{p}.csv: 2006-06-20\n" for p in SCHEMES)
    )
    return folder


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_urls(request, tmp_path: Path):
    """Two empty stores, one per run: a SQLite file under each run's outputs (the default), or two
    PostgreSQL schemas of the session's, upgraded as an operator does."""
    if request.param == "sqlite":
        yield {"threads": None, "dask": None}
        return
    import sqlalchemy

    from wpflow.store import migrate
    from wpflow.store.engine import make_engine

    base = request.getfixturevalue("postgres_url")
    engine = sqlalchemy.create_engine(base)
    schemas = {run: f"t_{uuid.uuid4().hex[:10]}" for run in ("threads", "dask")}
    urls = {run: f"{POSTGRES_URL}?options=-csearch_path%3D{schema}" for run, schema in schemas.items()}
    with engine.begin() as conn:
        for schema in schemas.values():
            conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    for url in urls.values():
        upgraded = make_engine(url)
        migrate.upgrade(upgraded)
        upgraded.dispose()
    yield urls
    with engine.begin() as conn:
        for schema in schemas.values():
            conn.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def settings_for(runner: str, tmp_path: Path, inbox: Path, database_url: str | None, monkeypatch) -> Path:
    """This process's WPFLOW_* settings for one run (its own outputs and store); its outputs."""
    outputs = tmp_path / runner
    monkeypatch.setenv("WPFLOW_OUTPUTS", str(outputs))
    monkeypatch.setenv("WPFLOW_INBOX", str(inbox))
    monkeypatch.setenv("WPFLOW_STABLE_SECONDS", "0")
    if database_url:
        monkeypatch.setenv("WPFLOW_DATABASE_URL", database_url)
    return outputs


def run_milestone(dask_address: str | None) -> None:
    """WP4-M3 on the runner WPFLOW_DASK_ADDRESS=`dask_address` gives."""
    from flows.milestone import milestone_pipeline
    from tasks.task_runners import pipeline_task_runner

    runner = pipeline_task_runner(Settings(dask_address=dask_address))
    outcome = milestone_pipeline.with_options(task_runner=runner)(MILESTONE, AS_OF)
    assert outcome.new_version and outcome.report is not None


def docx_text(docx: Path | io.BytesIO) -> list[str]:
    doc = Document(docx if isinstance(docx, io.BytesIO) else str(docx))
    return [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]


def package_parts(docx: Path | io.BytesIO) -> dict[str, bytes]:
    """A DOCX's or XLSX's parts but its properties (docProps/core.xml holds the time it was written)."""
    with zipfile.ZipFile(docx) as package:
        return {name: package.read(name) for name in package.namelist() if not name.startswith("docProps/")}


def mails(outputs: Path) -> dict[str, tuple]:
    """Each outbox e-mail by file name: its headers but the date and the MIME boundary (random),
    its text, its attachments' names and bytes (a DOCX's or workbook's parts but its properties)."""
    found = {}
    for path in sorted((outputs / "outbox" / "baltmet-inno").glob("*.eml")):
        msg = parse_eml(path)
        headers = sorted((k, str(v)) for k, v in msg.items() if k not in ("Date", "Content-Type"))
        body = msg.get_body(("plain",)).get_content()
        files = [
            (
                a.get_filename(),
                package_parts(io.BytesIO(a.get_content())) if a.get_filename().endswith(ZIPS) else a.get_content(),
            )
            for a in msg.iter_attachments()
        ]
        found[path.name] = (msg.get_content_type(), headers, body, files)
    return found


def store_rows(outputs: Path) -> dict[str, list[dict[str, str]]]:
    """Every row of every wpflow table, without ids and clocks (also those inside a stored
    summary), outputs paths made relative."""
    import sqlalchemy

    from wpflow.store.orm import Base
    from wpflow.workspace import workspace

    engine = workspace().store.engine

    def plain(value: object) -> str:
        return CLOCK_IN_JSON.sub(r'"\1":"…"', str(value).replace(str(outputs), "<outputs>"))

    rows: dict[str, list[dict[str, str]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in VOLATILE]
            result = conn.execute(sqlalchemy.select(*columns)).mappings().all()
            rows[table.name] = sorted(({k: plain(v) for k, v in row.items()} for row in result), key=repr)
    return rows


@pytest.mark.system
def test_validation_on_a_local_dask_cluster_gives_what_threads_give(
    prefect_harness, local_cluster, inbox, store_urls, tmp_path, monkeypatch
):
    from distributed import Client, get_task_stream

    from tasks.dask_runner import local_cluster_address

    threads = settings_for("threads", tmp_path, inbox, store_urls["threads"], monkeypatch)
    run_milestone(None)
    expected = (
        package_parts(threads / "reports" / "baltmet-inno" / f"{MILESTONE}.docx"),
        mails(threads),
        store_rows(threads),
    )

    # the Dask run's settings first: the cluster's worker processes inherit them as they start
    dask = settings_for("dask", tmp_path, inbox, store_urls["dask"], monkeypatch)
    address = local_cluster_address()
    with Client(address, set_as_default=False) as client:
        worker_pids = client.run(os.getpid)
        with get_task_stream(client=client) as stream:
            run_milestone("local")
    assert local_cluster_address() == address, "the run used this process's cluster, not a new one"

    ran = [task["worker"] for task in stream.data if task["key"].startswith("validate_batch")]
    batches = -(-len(SCHEMES) // PARTNERS_PER_BATCH)
    assert len(ran) == batches, "one task per partner batch, all on the cluster"
    pids = {worker_pids[worker] for worker in ran}
    assert pids and os.getpid() not in pids, "validated in the cluster's worker processes"

    report, sent, rows = (
        package_parts(dask / "reports" / "baltmet-inno" / f"{MILESTONE}.docx"),
        mails(dask),
        store_rows(dask),
    )
    assert report == expected[0], "the report's document, tables and styles byte for byte"
    assert sent == expected[1]
    assert rows == expected[2]

    # and what they hold: every partner's file judged, a receipt each, the report to every recipient
    assert {r["partner"]: r["status"] for r in rows["submissions"]} == {
        "helsinki": "valid",
        "malmo": "valid",
        "tallinn": "valid",
        "riga": "invalid",
    }
    [issue] = rows["issues"]
    assert (issue["field"], issue["column"], issue["value"]) == ("budget_eur", "E", "about 2 mio")
    kinds = sorted(r["kind"] for r in rows["notifications"])
    assert kinds.count("receipt") == len(SCHEMES) and kinds.count("report") == len(sent) - len(SCHEMES)
    assert "Tehnopol Start" in docx_text(dask / "reports" / "baltmet-inno" / f"{MILESTONE}.docx")


@pytest.mark.parametrize(
    "address, runner, scheduler",
    [
        (None, "ThreadPoolTaskRunner", None),
        ("local", "WpflowDaskTaskRunner", None),  # this process's LocalCluster, started at the first fan-out
        ("tcp://10.0.0.5:8786", "WpflowDaskTaskRunner", "tcp://10.0.0.5:8786"),
        ("tls://dask.example.org:8786", "WpflowDaskTaskRunner", "tls://dask.example.org:8786"),
    ],
)
def test_the_setting_picks_the_runner(address, runner, scheduler):
    from tasks.task_runners import pipeline_task_runner

    chosen = pipeline_task_runner(Settings(dask_address=address, _env_file=None))
    assert type(chosen).__name__ == runner
    assert getattr(chosen, "address", None) == scheduler
    assert chosen.duplicate() == chosen  # what Prefect enters for each flow run, and in each worker


@pytest.mark.parametrize("address", ["localhost:8786", "Local", "http://dask:8786", "tcp://"])
def test_a_scheduler_address_without_its_protocol_is_refused_when_read(address):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="dask_address"):
        Settings(dask_address=address, _env_file=None)


@pytest.mark.system
def test_the_milestone_pipeline_reads_the_setting_when_its_process_starts(tmp_path):
    """Each process's own environment, read as a run starts (Prefect duplicates the flow's
    runner then): a worker started with WPFLOW_DASK_ADDRESS=local fans out on Dask, the tests'
    (and anyone's without it) on threads."""
    import subprocess
    import sys

    from flows.milestone import milestone_pipeline
    from schemas.settings import ROOT

    assert type(milestone_pipeline.task_runner.duplicate().chosen).__name__ == "ThreadPoolTaskRunner"
    code = "from flows.milestone import milestone_pipeline as m; r = m.task_runner.duplicate().chosen; print(type(r).__name__, r.dask_address)"
    env = {**os.environ, "WPFLOW_DASK_ADDRESS": "local"}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["WpflowDaskTaskRunner", "local"]
