"""Prefect still has the shape `orchestration.prefect_patches` patches: an upgrade that changes
it fails here, naming what moved, rather than leaving orphan servers behind unnoticed."""

from __future__ import annotations

import importlib
import inspect
import subprocess

from orchestration.prefect_app import PREFECT_FACTORY
from orchestration.prefect_patches import PATCHED_ATTRIBUTE, PATCHED_MODULE, TiedSubprocess, tie_ephemeral_server


def test_prefects_server_module_starts_its_server_through_the_patched_subprocess() -> None:
    server = importlib.import_module(PATCHED_MODULE)
    patched = getattr(server, PATCHED_ATTRIBUTE, None)
    assert patched is subprocess or isinstance(patched, TiedSubprocess), (
        f"{PATCHED_MODULE}.{PATCHED_ATTRIBUTE} is no longer the subprocess module: {patched!r}"
    )
    run_uvicorn = getattr(server.SubprocessASGIServer, "_run_uvicorn_command", None)
    assert callable(run_uvicorn), "SubprocessASGIServer._run_uvicorn_command is gone"
    source = inspect.getsource(run_uvicorn)
    assert f"{PATCHED_ATTRIBUTE}.Popen(" in source, "the ephemeral server is no longer started by subprocess.Popen"
    assert "args=" in source, "Popen's command is no longer passed as args= (TiedSubprocess.Popen reads it)"
    assert PREFECT_FACTORY in source, f"Prefect's server no longer serves {PREFECT_FACTORY}"


def test_tying_swaps_the_module_once_and_can_untie() -> None:
    server = importlib.import_module(PATCHED_MODULE)
    before = getattr(server, PATCHED_ATTRIBUTE)
    try:
        tie_ephemeral_server()
        tied = getattr(server, PATCHED_ATTRIBUTE)
        assert isinstance(tied, TiedSubprocess) and tied.tied
        tie_ephemeral_server()
        assert getattr(server, PATCHED_ATTRIBUTE) is tied  # idempotent
        tie_ephemeral_server(tied=False)
        assert not getattr(server, PATCHED_ATTRIBUTE).tied
        untied = getattr(server, PATCHED_ATTRIBUTE)
        assert untied.TimeoutExpired is subprocess.TimeoutExpired  # the rest is subprocess's
    finally:
        setattr(server, PATCHED_ATTRIBUTE, before)
