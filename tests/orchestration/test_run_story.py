"""What a run's Prefect log and state say, against the harness's real Prefect API: a receipt put
off once is sent by the task's retry and the run ends Completed; one that cannot be sent yet
ends Failed without a stray "NoneType: None" line; the store's takeover warning reaches the
task run's log; invalid files a newer one replaced are not warned about."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import pytest

from tests.prefect_harness import drain_prefect_workers
from tests.uploads import put, seed_csv

RELATIVE = "riga/WP4-M3/seed_funding_riga.csv"


def run_logs(flow_run_id) -> list[str]:
    """Every log line of the flow run and its task runs, as the UI shows them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    drain_prefect_workers()
    with get_client(sync_client=True) as client:
        return [
            e.message
            for e in client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        ]


@pytest.fixture
def failing_receive(monkeypatch):
    """`receive_file` failing with the given exceptions first, then receiving for real; the
    retries' delays cut to nothing. Returns (the list of failures to raise, the calls made)."""
    import flows.watcher
    import tasks.inbox

    real = tasks.inbox.watch.receive_file
    failures: list[Exception] = []
    calls: list[str] = []

    def receive(ws, item):
        calls.append(item.relative)
        if failures:
            raise failures.pop(0)
        return real(ws, item)

    monkeypatch.setattr(tasks.inbox.watch, "receive_file", receive)
    monkeypatch.setattr(flows.watcher, "receive_folder", tasks.inbox.receive_folder.with_options(retry_delay_seconds=0))
    return failures, calls


def test_a_receipt_put_off_once_is_sent_on_the_retry_and_the_run_ends_completed(prefect_api, inbox, failing_receive):
    from flows.watcher import receive_uploads
    from wpflow.mail.transports import TransientMailError

    failures, calls = failing_receive
    failures.append(TransientMailError("451 4.3.0 try again later"))
    put(inbox, "riga", "WP4-M3", "seed_funding_riga.csv", seed_csv("Riga seed fund"))

    state = receive_uploads([RELATIVE], return_state=True)

    assert state.is_completed() and state.message == "1 upload(s) received", state
    assert calls == [RELATIVE, RELATIVE]
    logs = run_logs(state.state_details.flow_run_id)
    assert any("Retry 1/2" in line for line in logs), logs
    assert not any("NoneType: None" in line for line in logs), logs


def test_a_receipt_that_cannot_go_yet_fails_the_run_without_an_empty_traceback(prefect_api, inbox, failing_receive):
    """Retries exhausted: Prefect logs the returned Failed state with exc_info=True outside an
    except block; the run's log holds the error line, not a "NoneType: None" under it."""
    from flows.watcher import receive_uploads
    from wpflow.mail.transports import MailServerUnreachable, TransientMailError

    failures, calls = failing_receive
    failures.extend(TransientMailError("451 try again later") for _ in range(3))
    put(inbox, "riga", "WP4-M3", "seed_funding_riga.csv", seed_csv("Riga seed fund"))

    state = receive_uploads([RELATIVE], return_state=True)

    assert state.is_failed() and "1 of 1 not received yet" in (state.message or ""), state
    assert len(calls) == 3  # the first attempt and two retries
    logs = run_logs(state.state_details.flow_run_id)
    assert any("Retries are exhausted" in line for line in logs), logs
    assert not any("NoneType: None" in line for line in logs), logs

    # a server out of reach is the watcher's queue's at once: no retry seconds later
    calls.clear()
    failures.append(MailServerUnreachable("cannot reach 127.0.0.1:25"))
    assert receive_uploads([RELATIVE], return_state=True).is_failed()
    assert len(calls) == 1


def test_a_real_traceback_is_kept_and_an_empty_one_dropped():
    from tasks.run_log import EmptyTracebackFilter

    probes: list[logging.Logger] = []

    def formatted(log_it) -> str:
        record: list[logging.LogRecord] = []
        logger = logging.getLogger(f"tests.run_story.{len(probes)}")
        probes.append(logger)
        logger.addFilter(EmptyTracebackFilter())
        handler = logging.Handler()
        handler.emit = record.append  # type: ignore[method-assign]
        logger.addHandler(handler)
        logger.propagate = False
        log_it(logger)
        return logging.Formatter().format(record[0])

    assert "NoneType" not in formatted(lambda log: log.error("no exception here", exc_info=True))  # noqa: LOG014
    assert formatted(lambda log: log.exception("outside except")) == "outside except"  # noqa: LOG004

    def in_except(log):
        try:
            raise ValueError("the real one")
        except ValueError:
            log.exception("failed")

    assert "ValueError: the real one" in formatted(in_except)


def test_the_stores_takeover_warning_reaches_the_task_runs_log(prefect_api):
    from prefect import flow, task

    from tasks.run_log import STORE_LOGGER, store_warnings_in_run_log

    store_log = logging.getLogger(STORE_LOGGER)

    @task
    def send_with_a_takeover() -> None:
        with store_warnings_in_run_log():
            store_log.warning("e-mail k1: its sender (host|1|2|3) died before it was marked sent; sending it again")
            other = threading.Thread(target=lambda: store_log.warning("another thread's line"))
            other.start()
            other.join()

    @flow
    def resend() -> None:
        send_with_a_takeover()

    state = resend(return_state=True)
    logs = run_logs(state.state_details.flow_run_id)
    assert any("died before it was marked sent; sending it again" in line for line in logs), logs
    assert not any("another thread's line" in line for line in logs)


def test_invalid_files_a_newer_file_replaced_are_not_warned_about():
    from schemas.records import CheckedSubmission, Submission
    from tasks.validate import replaced

    def checked(partner: str, name: str, day: int, kind: str | None, valid: bool) -> CheckedSubmission:
        issues = [] if valid else [{"file": name, "message": "budget_eur: not a number"}]
        when = datetime(2006, 6, day, tzinfo=UTC)
        submission = Submission(
            project="BaltMet Inno",
            partner=partner,
            milestone="WP4-M3",
            kind=kind,
            file_name=name,
            sha256=name,
            size=1,
            received_at=when,
            modified_at=when,
            archive_path=name,
        )
        return CheckedSubmission.model_validate(
            {"submission": submission, "result": {"file": name, "kind": kind, "issues": issues}}
        )

    first = checked("riga", "seed_funding_riga.csv", 20, "seed_funding", valid=False)
    corrected = checked("riga", "seed_funding_riga_v2.csv", 28, "seed_funding", valid=True)
    unknown = checked("malmo", "notes.txt", 20, None, valid=False)
    still_invalid = checked("tallinn", "seed_funding_tallinn.csv", 28, "seed_funding", valid=False)
    files = [first, corrected, unknown, still_invalid, checked("malmo", "seed.csv", 21, "seed_funding", valid=True)]
    assert [replaced(c, files) for c in (first, unknown, still_invalid)] == [True, True, False]
