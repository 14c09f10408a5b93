"""Validate task: one task run per partner batch, not per file.

A task run costs ~8-33 ms of orchestration (DESIGN §2); a batch per partner keeps that cost
proportional to partners (a dozen) rather than files or rows.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from prefect import get_run_logger, task
from prefect.context import TaskRunContext

import wpflow
from schemas.records import CheckedSubmission, Submission
from wpflow.names import shown_name
from wpflow.stages import validate_stage
from wpflow.workspace import workspace


def _batch_key(context: TaskRunContext, parameters: dict) -> str:
    """Same files, same project and database, same wpflow version → the same results: skip on re-run."""
    ws = workspace(parameters["project"])
    parts = [wpflow.__version__, ws.project_ref, ws.settings.db_url, parameters["milestone_id"]]
    parts += sorted(s.sha256 for s in parameters["submissions"])
    return "validate-" + hashlib.sha256("|".join(parts).encode()).hexdigest()


# No timeout: mapped runs execute in worker threads, where Prefect cannot interrupt them anyway.
@task(
    retries=1, retry_delay_seconds=5, cache_key_fn=_batch_key, persist_result=True, task_run_name="validate {partner}"
)
def validate_partner(
    project: str, milestone_id: str, partner: str, submissions: list[Submission]
) -> list[CheckedSubmission]:
    ws = workspace(project)
    return validate_stage(ws, ws.milestone(milestone_id), submissions)


def group_by_partner(submissions: list[Submission]) -> dict[str, list[Submission]]:
    groups: dict[str, list[Submission]] = defaultdict(list)
    for s in submissions:
        groups[s.partner].append(s)
    return dict(groups)


def validate_submissions(project: str, milestone_id: str, submissions: list[Submission]) -> list[CheckedSubmission]:
    """Fan out one `validate_partner` run per partner and gather the results in order."""
    groups = group_by_partner(submissions)
    if not groups:
        return []
    futures = validate_partner.map(project, milestone_id, list(groups), list(groups.values()))
    checked = [c for batch in futures.result() for c in batch]
    log_invalid(checked)
    return checked


def log_invalid(checked: list[CheckedSubmission]) -> None:
    """Each invalid file with its first problem: what a coordinator scans the run's log for."""
    logger = get_run_logger()
    for c in checked:
        if not c.result.valid:
            errors = c.result.errors
            first = str(errors[0]) if errors else "not recognised as any requested input"
            logger.warning(
                "%s: %s is invalid (%d error(s)); first: %s",
                c.submission.partner,
                shown_name(c.submission.file_name),
                len(errors),
                first,
            )
