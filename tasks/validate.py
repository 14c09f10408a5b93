"""Validate task: one task run per batch of partners, not per file or per partner.

A task run costs ~8-33 ms of orchestration in the flow's process and three events the API
server records (docs/performance.md): batches of up to PARTNERS_PER_BATCH partners
keep that cost at one run for a consortium of BaltMet's size and proportional to partners / 25
at 500, while a re-run still skips (cache) the batches whose files did not change.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from prefect import get_run_logger, task
from prefect.context import TaskRunContext

import wpflow
from schemas.records import CheckedSubmission, Submission
from wpflow.file_names import shown_name
from wpflow.milestone.stages import validate_stage
from wpflow.workspace import workspace


def _batch_key(context: TaskRunContext, parameters: dict) -> str:
    """Same files, same project and database, same wpflow version → the same results: skip on re-run."""
    ws = workspace(parameters["project"])
    parts = [wpflow.__version__, ws.project_ref, ws.settings.db_url, parameters["milestone_id"]]
    parts += sorted(s.sha256 for s in parameters["submissions"])
    return "validate-" + hashlib.sha256("|".join(parts).encode()).hexdigest()


PARTNERS_PER_BATCH = 25


# No timeout: mapped runs execute in worker threads, where Prefect cannot interrupt them anyway.
@task(
    retries=1, retry_delay_seconds=5, cache_key_fn=_batch_key, persist_result=True, task_run_name="validate {partners}"
)
def validate_batch(
    project: str, milestone_id: str, partners: str, submissions: list[Submission]
) -> list[CheckedSubmission]:
    """`partners` names the batch in the UI; the files are the submissions."""
    ws = workspace(project)
    return validate_stage(ws, ws.milestone(milestone_id), submissions)


def partner_batches(submissions: list[Submission]) -> list[tuple[str, list[Submission]]]:
    """The submissions grouped by partner, in batches of up to PARTNERS_PER_BATCH partners, each
    with its name for the UI: `helsinki, malmo, riga`, or `berlin-tsb … tallinn (14 partners)`."""
    groups: dict[str, list[Submission]] = defaultdict(list)
    for s in submissions:
        groups[s.partner].append(s)
    partners = list(groups)
    batches = []
    for start in range(0, len(partners), PARTNERS_PER_BATCH):
        chunk = partners[start : start + PARTNERS_PER_BATCH]
        name = ", ".join(chunk) if len(chunk) <= 3 else f"{chunk[0]} … {chunk[-1]} ({len(chunk)} partners)"
        batches.append((name, [s for p in chunk for s in groups[p]]))
    return batches


def validate_submissions(project: str, milestone_id: str, submissions: list[Submission]) -> list[CheckedSubmission]:
    """Fan out one `validate_batch` run per batch of partners and gather the results in order."""
    batches = partner_batches(submissions)
    if not batches:
        return []
    names, files = zip(*batches, strict=True)
    futures = validate_batch.map(project, milestone_id, list(names), list(files))
    checked = [c for batch in futures.result() for c in batch]
    log_invalid(checked)
    return checked


def replaced(c: CheckedSubmission, checked: list[CheckedSubmission]) -> bool:
    """True when the partner sent a newer file of the same input (or, for a file not recognised
    as any input, any newer file) after `c`: the run reports from that one, not from `c`."""
    kind = c.result.kind or c.submission.kind
    arrived = lambda x: (x.submission.modified_at, x.submission.received_at)  # noqa: E731
    return any(
        other.submission.partner == c.submission.partner
        and (kind is None or (other.result.kind or other.submission.kind) == kind)
        and arrived(other) > arrived(c)
        for other in checked
    )


def log_invalid(checked: list[CheckedSubmission]) -> None:
    """Each invalid file the run uses with its first problem: what a coordinator scans the run's
    log for. A file a newer one replaced is left out: the e-mails do not warn about it either."""
    logger = get_run_logger()
    for c in checked:
        if not c.result.valid and not replaced(c, checked):
            errors = c.result.errors
            first = str(errors[0]) if errors else "not recognised as any requested input"
            logger.warning(
                "%s: %s is invalid (%d error(s)); first: %s",
                c.submission.partner,
                shown_name(c.submission.file_name),
                len(errors),
                first,
            )
