"""An inbox folder that is not there (a mistyped WPFLOW_INBOX, a share not mounted) is said in
one line, and nobody is told that partners sent nothing — as the person at the terminal sees it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.settings_env import child_env


@pytest.mark.parametrize(
    "command",
    [
        ["run", "WP4-M3", "--direct", "--as-of", "2006-09-30"],
        pytest.param(["deadlines", "--as-of", "2006-09-30"], marks=pytest.mark.system),  # starts Prefect
    ],
    ids=["run", "deadlines-through-prefect"],
)
def test_a_missing_inbox_is_one_line_and_no_email(settings, tmp_path, command):
    missing = tmp_path / "no-such-share" / "inbox"
    env = child_env(settings.model_copy(update={"inbox": missing, "report_pdf": False}))
    env = {k: v for k, v in env.items() if not k.startswith("PREFECT_")}  # Prefect as a user has it
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    done = subprocess.run(
        [sys.executable, "-m", "wpflow", *command], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2, done.stderr
    progress = ("running ", "[1/1] ")  # the terminal's progress lines, then the one error line
    assert [x for x in done.stderr.splitlines() if not x.startswith(progress)] == [
        (
            f"error: cannot read {missing}: the project's inbox folder does not exist, so nothing was collected "
            "and no one was told that nothing arrived (create it, or check WPFLOW_INBOX / WPFLOW_INBOXES) "
            "(run with --verbose for details)"
        )
    ]
    outbox = settings.outputs / "outbox"
    assert not list(outbox.rglob("*.eml")), "a notice went out although the inbox was never read"
