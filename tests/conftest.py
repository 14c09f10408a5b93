"""The one test harness: settings in a temp folder (and `configure` for the process's settings),
the bundled project, a real SMTP server on loopback (aiosmtpd) and a real PostgreSQL schema per
test session. Helpers beside it: tests/waiting.py (`wait_for`, the one way to wait),
tests/settings_env.py (settings as a child process's environment), tests/smtp.py,
tests/uploads.py and tests/watching.py."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

# Each test session gets its own Prefect home: runs never land in the user's ~/.prefect, and
# parallel sessions (xdist workers, a developer's second terminal) never share a SQLite file.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="wpflow-prefect-")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")  # the runs' logs reach the API, as in use
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")  # the terminal stays quiet
for _name in [n for n in os.environ if n.startswith("WPFLOW_") and not n.startswith("WPFLOW_TEST_")]:
    del os.environ[_name]  # a developer's own settings must not leak into the tests
# LibreOffice's PDF takes seconds per report: only tests/report/test_report_pdf.py asks for it (explicitly).
os.environ["WPFLOW_REPORT_PDF"] = "false"

from schemas.inputs import InputKind, InputRow  # noqa: E402
from schemas.settings import ROOT, Settings  # noqa: E402
from tests.prefect_harness import drain_prefect_workers, migrated_prefect_database, start_prefect_test_server  # noqa: E402
from tests.settings_env import env_value  # noqa: E402
from tests.smtp import SmtpSink, running_smtp  # noqa: E402

BUNDLED_PROJECT = ROOT / "projects" / "baltmet-inno"
POSTGRES_URL = os.environ.get("WPFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings writing everything under a fresh temp folder (SQLite, outbox transport)."""
    return Settings(project=BUNDLED_PROJECT, outputs=tmp_path / "outputs", _env_file=None)


@pytest.fixture
def configure(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Settings]:
    """The one way a test sets what code reading the process's settings (`workspace()`, flows,
    the CLI in-process) gets: `configure(stable_seconds=0, inbox=folder)`, Settings fields as
    data, each set as its WPFLOW_* variable (undone after the test), `outputs` always that of
    `settings`; a value None unsets one. Calls add up; each returns the Settings the process now
    reads. A process a test starts gets them as `env=child_env(settings)` (tests/settings_env.py)."""
    given: dict[str, Any] = {"outputs": settings.outputs}

    def apply(**overrides: Any) -> Settings:
        unknown = sorted(set(overrides) - set(Settings.model_fields))
        assert not unknown, f"not settings: {unknown}"
        given.update(overrides)
        for name, value in given.items():
            if value is None:
                monkeypatch.delenv(f"WPFLOW_{name.upper()}", raising=False)
            else:
                monkeypatch.setenv(f"WPFLOW_{name.upper()}", env_value(value))
        return Settings(_env_file=None)

    return apply


@pytest.fixture(scope="session")
def project():
    """The bundled BaltMet Inno definition, loaded once."""
    from wpflow.project.load import load_project

    return load_project(BUNDLED_PROJECT)


@pytest.fixture
def other_project(tmp_path: Path) -> Path:
    """A second project folder beside the bundled one: BaltMet Inno's definition renamed
    "Other Inno", with an empty inbox of its own (a second project is just another folder)."""
    folder = tmp_path / "other-inno"
    (folder / "inbox").mkdir(parents=True)
    text = (BUNDLED_PROJECT / "project.yaml").read_text(encoding="utf-8")
    assert "\nname: BaltMet Inno\n" in text
    (folder / "project.yaml").write_text(
        text.replace("\nname: BaltMet Inno\n", "\nname: Other Inno\n"), encoding="utf-8"
    )
    return folder


# -- SMTP --------------------------------------------------------------------------------
@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    """A real SMTP server on loopback; `.messages` holds what it received."""
    sink = SmtpSink(host="127.0.0.1", port=0)
    with running_smtp(sink) as port:
        sink.port = port
        yield sink


# -- databases ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a schema of its own, dropped at the end."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    schema = f"wpflow_test_{uuid.uuid4().hex[:10]}"
    engine = sqlalchemy.create_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    except sqlalchemy.exc.OperationalError as exc:  # pragma: no cover - depends on the machine
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request, tmp_path: Path) -> Iterator[str]:
    """Each store test runs on a SQLite file and on the real PostgreSQL server, there in a
    schema of its own (tests stay independent on the shared server), dropped afterwards; empty."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wpflow.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    import sqlalchemy

    schema = f"t_{uuid.uuid4().hex[:10]}"
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        try:  # a store a test left open must not hang the suite: give up after 5 s
            with engine.begin() as conn:
                conn.execute(sqlalchemy.text("SET LOCAL lock_timeout = '5s'"))
                conn.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        except sqlalchemy.exc.OperationalError:
            pass  # held by a store a test left open: left behind rather than hang the suite
        engine.dispose()


@pytest.fixture
def db_url(empty_db_url: str) -> str:
    """`empty_db_url` ready for a `Store`: a PostgreSQL schema upgraded to the newest revision
    first, as an operator's `wpflow db upgrade` does (only SQLite migrates itself when opened)."""
    if not empty_db_url.startswith("sqlite"):
        from wpflow.store import migrate
        from wpflow.store.engine import make_engine

        engine = make_engine(empty_db_url)
        migrate.upgrade(engine)
        engine.dispose()
    return empty_db_url


# -- the demo -----------------------------------------------------------------------------
DEMO_AS_OF = "2008-01-31"  # as `make demo`: every milestone is past due


@pytest.fixture(scope="session")
def demo_outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """What `make demo`'s commands leave, `--direct`, in-process through the real app: `wpflow
    run --all --as-of 2008-01-31` (its JSON summary is returned beside the outputs folder), then
    `wpflow report project`. Made once per test process and read by several modules (they run
    on one xdist worker, see `worker_group`): treat it as read-only."""
    import json

    from typer.testing import CliRunner

    from wpflow.cli.app import app

    outputs = tmp_path_factory.mktemp("demo") / "outputs"
    env = {"WPFLOW_OUTPUTS": str(outputs), "WPFLOW_STABLE_SECONDS": "0", "PREFECT_API_URL": None, "COLUMNS": "160"}
    runs = CliRunner().invoke(app, ["run", "--all", "--direct", "--as-of", DEMO_AS_OF, "-f", "json"], env=env)
    assert runs.exit_code == 0, runs.output
    final = CliRunner().invoke(app, ["report", "project", "--as-of", DEMO_AS_OF, "--direct"], env=env)
    assert final.exit_code == 0, final.output
    return outputs, json.loads(runs.stdout)


# -- Prefect ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def prefect_database(request: pytest.FixtureRequest) -> Path:
    """`migrated_prefect_database` as a fixture."""
    return migrated_prefect_database(request.config)


# The Prefect test server of this process, started once, on a copy of a migrated database.
# Under xdist the tests using it are one group (`worker_group`), on one worker, which starts
# the server at the first of them: a second server on the other worker cost more CPU than the
# group's place on one worker costs time (make test: 2 min 52 s against 3 min 2 s, measured
# both ways). In a plain run it starts in a thread as soon as the collected tests show that
# some need it, overlapping the first tests. "future" and "folder" (its database) are kept here.
PREFECT_SERVER_STARTING: dict[str, Any] = {}


def pytest_collection_finish(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):  # an xdist worker does not know its tests yet
        return
    if not session.config.option.collectonly and any(uses_prefect_api(item) for item in session.items):
        begin_prefect_test_server(session.config)


def begin_prefect_test_server(config: pytest.Config) -> None:
    from concurrent.futures import ThreadPoolExecutor

    folder = Path(tempfile.mkdtemp(prefix="wpflow-prefect-api-"))
    pool = ThreadPoolExecutor(1, thread_name_prefix="prefect-test-server")
    PREFECT_SERVER_STARTING.update(future=pool.submit(start_prefect_test_server, config, folder), folder=folder)
    pool.shutdown(wait=False)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the server, if this process started one."""
    future = PREFECT_SERVER_STARTING.pop("future", None)
    if future is not None:
        server, folder = future.result(timeout=180), PREFECT_SERVER_STARTING.pop("folder")
        import shutil

        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def uses_prefect_api(item: pytest.Item) -> bool:
    fixtures = getattr(item, "_fixtureinfo", None)
    return fixtures is not None and "prefect_api" in fixtures.names_closure


@pytest.fixture(scope="session")
def prefect_test_server(request: pytest.FixtureRequest) -> Any:
    """This process's Prefect test server (the one `prefect_test_harness` would start), see
    `PREFECT_SERVER_STARTING`. Ask for `prefect_api`, not for this."""
    if "future" not in PREFECT_SERVER_STARTING:  # an xdist worker, or a test collection did not show
        begin_prefect_test_server(request.config)
    return PREFECT_SERVER_STARTING["future"].result(timeout=180)


@pytest.fixture
def prefect_api(prefect_test_server: Any) -> Iterator[str]:
    """Flows run in this test against the shared test server, as under `prefect_test_harness`;
    yields its API URL. Runs of earlier tests are on it too: select what a test made (by id, by
    a `before` snapshot, by name). Tests using it run on one xdist worker (see
    `worker_group`), so one server serves them all."""
    import prefect.context
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    prior = SubprocessASGIServer._instances.get(None)
    SubprocessASGIServer._instances[None] = prefect_test_server  # no second, ephemeral server
    try:
        with temporary_settings({PREFECT_API_URL: prefect_test_server.api_url}):
            # threads (the watcher's) read the process-global settings: the harness sets them too
            with prefect.context._temporary_global_settings_context(prefect.context.get_settings_context()):
                yield prefect_test_server.api_url
                drain_prefect_workers()
    finally:
        if prior is None:
            SubprocessASGIServer._instances.pop(None, None)
        else:
            SubprocessASGIServer._instances[None] = prior


# -- placing tests on xdist workers ------------------------------------------------------
def worker_group(item: pytest.Item) -> str | None:
    """The xdist group of a test: every test using `prefect_api` on one worker (one Prefect
    server serves them all); the tests sharing the demo or a
    module-scoped fixture (a replay, a server) on one worker (it is built once); None for the
    others, spread one by one."""
    fixtures = getattr(item, "_fixtureinfo", None)
    if fixtures is None:
        return None
    if uses_prefect_api(item):
        return "prefect_api"
    if "demo_outputs" in fixtures.names_closure:
        return "demo"
    for name in fixtures.names_closure:
        defs = fixtures.name2fixturedefs.get(name)
        if defs and defs[-1].scope == "module":
            return item.path.stem  # the module's name
    return None


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Iterator[None]:
    """Groups for `--dist loadgroup` (pyproject's addopts), which starts the groups first
    (xdist orders work by its size). pytest-xdist 3.8 tells the controller a test's group by
    appending `@group` to its node id, which pytest 9.2's structured node ids ignore
    (pytest-dev/pytest-xdist#1386): the id is rewritten here, after xdist's hook, unless
    xdist managed."""
    for item in items:
        group = worker_group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    yield
    if not getattr(config.option, "loadgroup", False):  # set on xdist workers under loadgroup
        return
    from _pytest.nodeid import NodeId

    for item in items:
        groups = sorted({str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args})
        if groups and "@" not in item.nodeid.rpartition("]")[2]:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")


def parse_eml(path: Path) -> EmailMessage:
    """Parse an outbox `.eml` file."""
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def sample_value(name: str, info, n: int):
    """A valid value of a model field for row `n` (typed: numbers, booleans, dates): what the
    round-trip tests fill templates and files with. Names exercise the cities' letters."""
    import datetime as dt

    from wpflow.inputs.partner_templates import base_type, bounds

    if "email" in name:
        return f"person{n}@riga.example.org"
    if "phone" in name:
        return f"+371 6700 000{n}"
    kind, allowed = base_type(info)
    low, high = bounds(info)
    if allowed:
        return allowed[n % len(allowed)]
    if kind is bool:
        return n % 2 == 0
    if kind in (int, float):
        number = (low if low is not None else 0) + 1000 + n
        number = number if high is None else min(number, high)
        return number + 0.5 if kind is float and high is None else number
    if kind is dt.date:
        return dt.date(2006, 5, 1 + n)
    return f"Rīga Łódź Malmö Kaunas {n}"


# -- inputs and inboxes -----------------------------------------------------------------
class DatedRow(InputRow):
    """A row kind with a date column and a row limit: no project row kind has either yet."""

    event: str
    date: dt.date
    location: str | None = None


DATED = InputKind(
    id="dated_events",
    label="Dated events",
    description="Test kind",
    shape="rows",
    model=DatedRow,
    sheet="Events",
    rows_per_partner=(1, 2),
)


@pytest.fixture
def dated_kind(monkeypatch):
    """DATED as an input kind of the bundled project (`tests.kinds.KINDS`) for one test."""
    from tests.kinds import KINDS

    monkeypatch.setitem(KINDS, DATED.id, DATED)


@pytest.fixture
def inbox(tmp_path: Path, configure) -> Path:
    """A fresh inbox, configured (`configure`) so `workspace()` (and flows) use it. Stability
    window 0.3 s keeps these tests quick; the latency test sets the real default of 1 s."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    configure(inbox=folder, stable_seconds=0.3)
    return folder
