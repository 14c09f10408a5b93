"""`wpflow serve` as the system tests start it: a Prefect server of the test's own (a module's
fixture, `serving_prefect_server`), and serve as a child process (`SERVE_APP`, `start_serve`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from schemas.settings import ROOT
from tests.prefect_harness import copy_prefect_database

SERVE_APP = """
import typer
from wpflow.cli.ops import serve_command
app = typer.Typer()
app.command("serve")(serve_command)
app.command("noop")(lambda: None)
app()
"""


@contextmanager
def serving_prefect_server(home: Path, prefect_database: Path) -> Iterator[str]:
    """`prefect server start` on a free loopback port with its own home (its database a copy of
    an empty, migrated one); yields its API URL; always stopped."""
    from orchestration.serve import free_port, prefect_server

    copy_prefect_database(prefect_database, home / "prefect.db")
    with prefect_server(free_port(), home, timeout=90) as api_url:
        yield api_url


@contextmanager
def started_serve(args: list[str], env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    """`wpflow serve ARGS` in a session of its own, its output in `log_path`; killed with its
    children however the test ends."""
    with log_path.open("wb") as log:
        served = subprocess.Popen(
            [sys.executable, "-c", SERVE_APP, "serve", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield served
        finally:
            if served.poll() is None:
                os.killpg(served.pid, signal.SIGKILL)
                served.wait(10)
