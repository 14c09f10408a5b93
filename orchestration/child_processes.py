"""Child servers die with their parent, even when the parent is killed with SIGKILL.

A `terminate()` in an `atexit` or `finally` never runs after `kill -9`, and an orphaned Prefect
server (uvicorn) then lives on for ever, holding its port and database. Linux can do it for us:
`prctl(PR_SET_PDEATHSIG, SIGKILL)` in the child, between fork and exec, asks the kernel to kill
the child when the thread that forked it ends. It survives `exec` (not for set-uid binaries).

Use `die_with_parent` as `preexec_fn=` of `subprocess.Popen`. The signal follows the *thread*
that forked the child, so start long-lived children from a long-lived thread (the main thread,
or Prefect's global event-loop thread). Elsewhere than Linux it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def die_with_parent_hook(parent_pid: int | None = None, sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A `preexec_fn` that ties the child to the calling process, or None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    parent = parent_pid or os.getpid()

    def hook() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: nobody would signal us
            os._exit(1)

    return hook
