"""Prefect's ephemeral API server dies with the wpflow process that started it.

Prefect 3 starts it (`prefect.server.api.server.SubprocessASGIServer._run_uvicorn_command`) as a
plain `subprocess.Popen` of uvicorn, stopped by an `atexit` hook: after a `kill -9` of wpflow
the hook never runs and the server lives on, an orphan holding its port and database. Prefect
offers no option for it, so the module's `subprocess` is swapped for a view of the real one
whose `Popen` adds `wpflow.lifeline`'s parent-death signal. Only that module sees the change.
"""

from __future__ import annotations

import subprocess
import types
from typing import Any

from wpflow.lifeline import die_with_parent_hook


class _TiedSubprocess(types.ModuleType):
    """`subprocess`, except that `Popen` children are killed when this process dies."""

    def __init__(self) -> None:
        super().__init__("subprocess")

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    @staticmethod
    def Popen(*args: Any, **kwargs: Any) -> subprocess.Popen:  # noqa: N802 - the name replaced
        kwargs.setdefault("preexec_fn", die_with_parent_hook())
        return subprocess.Popen(*args, **kwargs)


def tie_ephemeral_server() -> None:
    """Idempotent; call before the first flow run starts the ephemeral server."""
    from prefect.server.api import server

    if not isinstance(server.subprocess, _TiedSubprocess):
        server.subprocess = _TiedSubprocess()
