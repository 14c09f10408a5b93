"""`wpflow … | head`: a reader that stops reading ends the command quietly. A broken pipe on
stdout is not the mail server's (a BrokenPipeError is a ConnectionError, which a lost SMTP
connection also raises), so nothing is said on stderr."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from schemas.settings import ROOT
from tests.settings_env import child_env


@pytest.mark.parametrize(
    "args",
    [["init", "--help"], ["project", "show", "-f", "json"], ["project", "check", "-f", "json"]],
    ids=["init --help", "project show", "project check"],
)
def test_a_closed_stdout_ends_the_command_quietly(args: list[str], settings) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `| head` once it has its lines: every write now fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "wpflow", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=child_env(settings),
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert "mail server" not in done.stderr
    assert done.stderr == ""
    assert done.returncode in (0, 1, 141)  # 141 = 128 + SIGPIPE, as a shell reports it; rich's own: 1
