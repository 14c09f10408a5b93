"""Tasks that take partners' files from the inbox: a watcher batch's folder at a time
(`receive_folder`), or whatever the watcher missed, once a day (`collect_new_files`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import task_run
from prefect.states import Completed, Failed, State

from schemas.records import CheckedSubmission
from tasks.run_log import store_warnings_in_run_log
from wpflow.file_names import shown_name
from wpflow.inbox import watch
from wpflow.mail.transports import MailConfigError, MailServerUnreachable, PermanentMailError
from wpflow.milestone.collect import InboxFile
from wpflow.schedule.chase import collect_inbox
from wpflow.workspace import workspace


def folder_task_name() -> str:
    """`riga · WP4-M3 · seed_funding.csv` for one file, `riga · WP4-M3 · 4 files` for more;
    names escaped (no raw CR/LF)."""
    relatives: list[str] = task_run.parameters["relatives"]
    partner, milestone_id, name = relatives[0].split("/", 2)
    last = name if len(relatives) == 1 else f"{len(relatives)} files"
    return shown_name(f"{partner} · {milestone_id} · {last}")


# Two quick retries inside the run: a mail server that said "try later" usually takes the
# receipt seconds afterwards, and the run then ends Completed with the file received instead of
# red beside a later run that received it. Longer outages are the watcher's retry queue's.
RECEIVE_RETRY_DELAYS: list[float] = [2, 10]
# What seconds will not cure: a server that refused the message, or one that cannot be reached
# (the mailer does not even try it again yet). Such a file goes to the watcher's queue at once.
NOT_WORTH_RETRYING = {cls.__name__ for cls in (PermanentMailError, MailConfigError, MailServerUnreachable)}


def not_received(exc: Exception) -> str:
    """A file's outcome when receiving it failed: `<exception class>: <message>`."""
    return f"{type(exc).__name__}: {exc}"


def retry_soon(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's `retry_condition_fn`: retry when a file failed for a reason a retry seconds
    later may cure (the outcomes are the Failed state's data, `not_received` per failed file)."""
    outcomes = state.data if isinstance(state.data, dict) else {}
    failures = [o.split(":", 1)[0] for o in outcomes.values() if isinstance(o, str)]
    return any(name not in NOT_WORTH_RETRYING for name in failures)


@task(
    task_run_name=folder_task_name,
    cache_policy=NO_CACHE,
    retries=len(RECEIVE_RETRY_DELAYS),
    retry_delay_seconds=RECEIVE_RETRY_DELAYS,
    retry_condition_fn=retry_soon,
)
def receive_folder(project: str, relatives: list[str]) -> State[dict[str, CheckedSubmission | str]]:
    """One partner's files for one milestone, each archived by hash, validated, acknowledged
    (`<partner>/<milestone>/<name>` under the inbox). A file that fails does not stop the
    others; the task then ends Failed naming it, and Prefect retries it (the files received
    already are received again: idempotent by hash, their receipt goes once). A file still not
    received after the retries goes to the watcher's retry queue (backoff, kept in the store
    across restarts)."""
    ws, log = workspace(project), get_run_logger()
    outcomes: dict[str, CheckedSubmission | str] = {}
    for relative in relatives:
        partner, milestone_id, name = relative.split("/", 2)
        try:
            with store_warnings_in_run_log():  # a receipt a dead process claimed, sent again here
                received = watch.receive_file(ws, InboxFile(partner, milestone_id, ws.settings.inbox_root / relative))
        except Exception as exc:
            log.warning("%s not received yet: %s: %s", shown_name(name), type(exc).__name__, exc)
            outcomes[relative] = not_received(exc)
        else:
            log.info("%s received: %s", shown_name(name), "valid" if received.result.valid else "invalid")
            outcomes[relative] = received
    failed = [shown_name(r.split("/", 2)[2]) for r, o in outcomes.items() if isinstance(o, str)]
    if failed:
        return Failed(message=f"{len(failed)} of {len(relatives)} not received yet: {', '.join(failed)}", data=outcomes)
    return Completed(message=f"{len(relatives)} received", data=outcomes)


@task(retries=2, retry_delay_seconds=[5, 60], timeout_seconds=900)
def collect_new_files(project: str, day: date) -> int:
    """Files that arrived while the watcher was down get archived, validated and a receipt;
    how many."""
    return len(collect_inbox(workspace(project), day))
