"""Who holds a claim or runs a run, as evidence that can be checked later: is that process dead?

A claim used to expire after 15 minutes: a `kill -9` during a send blocked that e-mail for a
quarter of an hour and a killed run stayed "running" forever. Instead every claim and run now
records its owner — host, boot id, process id and the process's start time (clock ticks since
boot, from /proc) — and the next comer asks `is_dead(owner)`:

- same host, same boot: dead when the pid is gone or now belongs to a younger process (pid
  reuse cannot fool it: the start time differs);
- same host, another boot: dead (the machine rebooted since);
- another host: unknown — we cannot look; callers fall back to the clock (`claim_timeout`).

Linux only (/proc); elsewhere every owner is "unknown" and the clock decides, as before.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Owner:
    """A process, identified well enough to tell later whether it is still the same one alive."""

    host: str
    boot_id: str
    pid: int
    started: int  # clock ticks after boot (field 22 of /proc/<pid>/stat)

    @property
    def token(self) -> str:
        """What the store keeps: `host|boot|pid|started`, readable in a database browser."""
        return f"{self.host}|{self.boot_id}|{self.pid}|{self.started}"

    @classmethod
    def parse(cls, token: str) -> Owner | None:
        try:
            host, boot_id, pid, started = token.rsplit("|", 3)
            return cls(host, boot_id, int(pid), int(started))
        except ValueError:
            return None


def boot_id() -> str:
    try:
        return (PROC / "sys" / "kernel" / "random" / "boot_id").read_text().strip()
    except OSError:
        return "unknown"


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks after boot, or None when there is no such pid.

    The command name (field 2) may hold spaces and parentheses: split after its last ')'."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])  # field 22 overall; fields[0] is field 3 (state)


@lru_cache(maxsize=4)
def _owner_of(pid: int) -> Owner:
    return Owner(socket.gethostname(), boot_id(), pid, start_time(pid) or 0)


def me() -> Owner:
    """This process (cached per pid, so a forked worker gets its own identity)."""
    return _owner_of(os.getpid())


def is_dead(token: str | None) -> bool:
    """True only when the owner is *provably* gone; an unknown or foreign owner is not."""
    if not token:
        return False
    owner = Owner.parse(token)
    if owner is None or owner.boot_id == "unknown":
        return False
    here = me()
    if owner.host != here.host:
        return False
    if owner.boot_id != here.boot_id:
        return True
    started = start_time(owner.pid)
    return started is None or started != owner.started or is_zombie(owner.pid)


def is_zombie(pid: int) -> bool:
    """A killed child not yet reaped by its parent is dead although its /proc entry remains."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2 :].split()[0] in ("Z", "X")
