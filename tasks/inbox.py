"""Tasks that take partners' files from the inbox: a watcher batch's folder at a time
(`receive_folder`), or whatever the watcher missed, once a day (`collect_new_files`)."""

from __future__ import annotations

from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import task_run
from prefect.states import Completed, Failed, State

from schemas.records import CheckedSubmission
from wpflow.file_names import shown_name
from wpflow.inbox import watch
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


@task(task_run_name=folder_task_name, cache_policy=NO_CACHE)
def receive_folder(project: str, relatives: list[str]) -> State[dict[str, CheckedSubmission | str]]:
    """One partner's files for one milestone, each archived by hash, validated, acknowledged
    (`<partner>/<milestone>/<name>` under the inbox). A file that fails does not stop the
    others; the task then ends Failed naming it. No retries here: a failed file goes to the
    watcher's retry queue (backoff, kept in the store across restarts), and receiving again is
    idempotent by hash — the receipt goes once."""
    ws, log = workspace(project), get_run_logger()
    outcomes: dict[str, CheckedSubmission | str] = {}
    for relative in relatives:
        partner, milestone_id, name = relative.split("/", 2)
        try:
            received = watch.receive_file(ws, InboxFile(partner, milestone_id, ws.settings.inbox_root / relative))
        except Exception as exc:
            log.warning("%s not received yet: %s: %s", shown_name(name), type(exc).__name__, exc)
            outcomes[relative] = f"{type(exc).__name__}: {exc}"
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
