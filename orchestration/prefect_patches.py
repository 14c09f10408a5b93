"""The one place wpflow changes Prefect's code: how Prefect's own ephemeral server is started.

Where a process imported Prefect before wpflow could start the API itself (a test process, a
benchmark), Prefect starts its ephemeral server at the first flow run
(`prefect.server.api.server.SubprocessASGIServer._run_uvicorn_command`) as a plain
`subprocess.Popen` of uvicorn serving Prefect's app, stopped by an `atexit` hook. Prefect has
no setting or hook for either part, and both matter: after a `kill -9` the hook never runs and
the server lives on, an orphan holding its port and database; and Prefect's app lacks
`orchestration.prefect_app`'s replay of SQLite lock conflicts. So the server module's
`subprocess` is swapped for a view of the real one whose `Popen` adds
`orchestration.child_processes`'s parent-death signal and serves wpflow's app factory. Only that
module sees the change. tests/orchestration/test_prefect_patches.py checks that Prefect still
has the shape this relies on, so an upgrade that changes it fails there, by name.

`wpflow run` and the other commands do not need it: they start the API themselves
(`orchestration.ephemeral_api`), before Prefect is imported.
"""

from __future__ import annotations

import subprocess
import types
from typing import Any

from orchestration.child_processes import die_with_parent_hook
from orchestration.prefect_app import PREFECT_FACTORY
from orchestration.prefect_server import PREFECT_APP_FACTORY

# what is patched: the `subprocess` global of this Prefect module, used by SubprocessASGIServer
PATCHED_MODULE = "prefect.server.api.server"
PATCHED_ATTRIBUTE = "subprocess"


class TiedSubprocess(types.ModuleType):
    """`subprocess`, except that `Popen` children serve `orchestration.prefect_app`'s factory
    instead of Prefect's and, when `tied`, are killed when the thread that started them ends."""

    def __init__(self, tied: bool = True) -> None:
        super().__init__("subprocess")
        self.tied = tied

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    def Popen(self, *args: Any, **kwargs: Any) -> subprocess.Popen[Any]:  # noqa: N802 - the name replaced
        if self.tied:
            kwargs.setdefault("preexec_fn", die_with_parent_hook())
        command = kwargs.pop("args", args[0] if args else None)
        command = [PREFECT_APP_FACTORY if part == PREFECT_FACTORY else part for part in command]
        return subprocess.Popen(command, *args[1:], **kwargs)


def tie_ephemeral_server(tied: bool = True) -> None:
    """Idempotent; call before the first flow run starts the ephemeral server. `tied=False`
    for a server started from a thread that ends before the process (the test harness's)."""
    import importlib

    server = importlib.import_module(PATCHED_MODULE)
    current = getattr(server, PATCHED_ATTRIBUTE)
    if not isinstance(current, TiedSubprocess) or current.tied != tied:
        setattr(server, PATCHED_ATTRIBUTE, TiedSubprocess(tied))
