"""The one way a test waits: on a condition, polled, with a timeout that says what it waited for.

A test never sleeps a fixed time in place of waiting for something: it names what it waits for
(`what`), what it probes (`probe`, whose value the failure shows) and when that value is enough
(`until`). A fixed sleep stays only where the time itself is the test (a fault that lasts, a
"nothing more arrives" window).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T],
    *,
    what: str,
    until: Callable[[T], object] = bool,
    timeout: float = 30.0,
    interval: float = 0.05,
    details: Callable[[], str] | None = None,
) -> T:
    """Call `probe` every `interval` seconds until `until(value)` holds (by default: the value is
    truthy) and return that value. After `timeout` seconds fail with an AssertionError naming
    `what`, the last value seen and `details()` (a log tail, say). An exception (an assertion
    that a process is still alive, say) raised by `probe` ends the wait at once."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if until(value):
            return value
        if time.monotonic() >= deadline:
            message = f"timed out after {timeout:g} s waiting for {what}; last seen: {value!r}"
            raise AssertionError(message + (f"\n{details()}" if details is not None else ""))
        time.sleep(interval)
