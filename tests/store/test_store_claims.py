"""The store's claims, notifications, runs and report versions on SQLite and on the real PostgreSQL
server (every test runs over `db_url`)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from schemas.records import Issue, PartnerState, ReportRef, VersionContents
from tests.store.records import T0, by_sha, race, result, submission
from wpflow.store.issued import About
from wpflow.store.store import Store

# -- notifications --------------------------------------------------------------------------
CLAIM = {
    "project": "BaltMet Inno",
    "milestone": "WP3-M2",
    "recipient": "wp3@riga.example",
    "kind": "report",
    "about": About(report_version=1, fingerprint="f" * 64),
}


def test_claim_is_exclusive_across_stores_and_threads(db_url: str) -> None:
    stores = [Store(db_url), Store(db_url)]
    try:
        won = race(12, lambda i: stores[i % 2].claim_notification("key-1", **CLAIM))
        assert won.count(True) == 1
        assert stores[1].claim_notification("key-1", **CLAIM) is False
    finally:
        for s in stores:
            s.close()


def test_release_makes_the_key_claimable_again(store: Store) -> None:
    assert store.claim_notification("key-1", **CLAIM) is True
    assert store.claim_notification("key-1", **CLAIM) is False

    store.release_notification("key-1")

    assert store.claim_notification("key-1", **CLAIM) is True
    assert store.claim_notification("key-1", **CLAIM) is False


def test_stale_claim_can_be_taken_over_but_a_sent_one_never(db_url: str) -> None:
    with Store(db_url, claim_timeout=timedelta(0)) as store:
        assert store.claim_notification("crashed", **CLAIM) is True
        assert store.claim_notification("crashed", **CLAIM) is True  # its sender died: take over

        store.mark_sent("crashed", "smtp", "<x@baltmet.example>")
        assert store.claim_notification("crashed", **CLAIM) is False
        store.release_notification("crashed")  # releasing a sent key changes nothing
        assert store.claim_notification("crashed", **CLAIM) is False


def test_mark_sent_and_listing(store: Store) -> None:
    store.claim_notification("sent-key", **CLAIM)
    store.claim_notification("pending-key", **{**CLAIM, "recipient": "info@malmo.example"})
    assert store.was_sent("sent-key") is False

    store.mark_sent("sent-key", "outbox", "<sent-key@baltmet.example>")

    assert store.was_sent("sent-key") is True
    assert store.was_sent("pending-key") is False
    assert store.was_sent("never-claimed") is False
    (sent,) = store.notifications("BaltMet Inno", "WP3-M2")
    assert (sent.key, sent.recipient, sent.kind, sent.report_version, sent.fingerprint) == (
        "sent-key",
        "wp3@riga.example",
        "report",
        1,
        "f" * 64,
    )
    assert (sent.submission_sha256, sent.rung) == (None, None)
    assert (sent.transport, sent.message_id, sent.sent) == ("outbox", "<sent-key@baltmet.example>", True)
    assert sent.sent_at is not None and sent.sent_at.tzinfo is not None
    everything = store.notifications("BaltMet Inno", include_unsent=True)
    assert [n.key for n in everything] == ["sent-key", "pending-key"]
    assert store.notifications("BaltMet Inno", "WP3-M3") == []


# -- runs and reports -----------------------------------------------------------------------
def test_runs_are_recorded_and_finished_once(store: Store) -> None:
    run_id = store.start_run("BaltMet Inno", "WP3-M2", date(2006, 6, 30), flow_run_id="abc-123")
    other = store.start_run("BaltMet Inno", "WP3-M3", None)

    (running,) = store.runs("BaltMet Inno", "WP3-M2")
    assert (running.status, running.finished_at, running.flow_run_id) == ("running", None, "abc-123")
    assert store.run_for_flow_run("BaltMet Inno", "abc-123") == running
    assert store.run_for_flow_run("Other Inno", "abc-123") is None  # another project's run, whatever its id

    store.finish_run(run_id, "incomplete", report_sha256="d" * 64, report_version=2, outcome="WP3-M2: report v2 issued")
    store.finish_run(other, "crashed", error="the worker died")
    store.finish_run(run_id, "failed", error="a late hook")  # the first ending stays

    (done,) = store.runs("BaltMet Inno", "WP3-M2")
    assert (done.id, done.status, done.as_of, done.report_sha256) == (run_id, "incomplete", date(2006, 6, 30), "d" * 64)
    assert (done.report_version, done.outcome, done.error) == (2, "WP3-M2: report v2 issued", None)
    assert done.finished_at is not None and done.finished_at >= done.started_at
    assert [(r.milestone, r.status) for r in store.runs("BaltMet Inno")] == [
        ("WP3-M2", "incomplete"),
        ("WP3-M3", "crashed"),
    ]


def contents(*statuses: str) -> VersionContents:
    states = [
        PartnerState(partner=f"p{i}", city=f"City {i}", kind="clusters", status=s) for i, s in enumerate(statuses)
    ]
    return VersionContents(states=states, totals={})


def issue(store: Store, milestone: str, letter: str, status: str, day: date, *states: str):
    """`store.issue_version` of a fingerprint of one repeated `letter`, on `day`."""
    return store.issue_version(
        "BaltMet Inno", milestone, fingerprint=letter * 64, status=status, as_of=day, contents=contents(*states)
    )


def test_versions_are_numbered_once_per_content(store: Store) -> None:
    first, new = issue(store, "WP3-M2", "a", "incomplete", date(2006, 6, 30), "on time", "missing")
    again, again_new = issue(store, "WP3-M2", "a", "incomplete", date(2006, 7, 9), "on time", "missing")
    second, _ = issue(store, "WP3-M2", "b", "complete", date(2006, 7, 10), "on time", "late")
    other, _ = issue(store, "WP3-M3", "a", "complete", date(2006, 7, 10), "on time")

    back, back_new = issue(store, "WP3-M2", "a", "incomplete", date(2006, 7, 11), "on time", "missing")

    assert (first.version, new, again.version, again_new, second.version, other.version) == (1, True, 1, False, 2, 1)
    assert again.as_of == date(2006, 6, 30), "the same content is the version issued first"
    assert (back.version, back_new, back.as_of) == (3, True, date(2006, 7, 11)), "v1's content came back after v2"
    assert first.report is None
    ref = ReportRef(
        milestone_id="WP3-M2",
        path="/r/history/WP3-M2.v2.docx",
        sha256="d" * 64,
        template_sha256="t" * 64,
        generated_at=T0,
        version=2,
        fingerprint="b" * 64,
    )
    assert store.set_version_report("BaltMet Inno", "WP3-M2", 2, ref).report == ref
    assert store.versions("BaltMet Inno", "WP3-M2")[1].report == ref
    assert store.latest_version("BaltMet Inno", "WP3-M2") == back
    assert [v.contents.states[1].status for v in store.versions("BaltMet Inno", "WP3-M2")] == [
        "missing",
        "late",
        "missing",
    ]


@pytest.mark.parametrize("contents_raced", [1, 4], ids=["one content", "four contents"])
def test_racing_runs_issue_consecutive_versions_never_repeating_the_newest(db_url: str, contents_raced: int) -> None:
    """Eight runs at once on two stores: the numbers have no gap and no twin, each run gets a
    version of its own content, a version never repeats the one before it — and runs racing
    with one content share one version."""
    stores = [Store(db_url), Store(db_url)]
    fingerprint = [f"{i % contents_raced:064d}" for i in range(8)]
    try:
        issued = race(
            8,
            lambda i: stores[i % 2].issue_version(
                "BaltMet Inno",
                "WP3-M2",
                fingerprint=fingerprint[i],
                status="complete",
                as_of=date(2006, 7, 1),
                contents=contents("on time"),
            )[0],
        )
        versions = stores[0].versions("BaltMet Inno")
        assert [v.version for v in versions] == list(range(1, len(versions) + 1))
        assert all(a.fingerprint != b.fingerprint for a, b in itertools.pairwise(versions))
        assert {v.fingerprint for v in versions} == set(fingerprint)
        assert all(got.fingerprint == fingerprint[i] for i, got in enumerate(issued))
        if contents_raced == 1:
            assert [v.version for v in issued] == [1] * 8
    finally:
        for s in stores:
            s.close()


def test_a_claim_is_won_once_and_released_after_a_failure(store: Store) -> None:
    assert store.claim("run:WP3-M2:abc", project="BaltMet Inno", milestone="WP3-M2") is True
    assert store.claim("run:WP3-M2:abc", project="BaltMet Inno", milestone="WP3-M2") is False
    store.release_claim("run:WP3-M2:abc")
    assert store.claim("run:WP3-M2:abc", project="BaltMet Inno", milestone="WP3-M2") is True
    store.finish_claim("run:WP3-M2:abc", "flow-run-1")
    store.release_claim("run:WP3-M2:abc")  # a finished claim stays
    [claim] = store.claims("BaltMet Inno")
    assert (claim.purpose, claim.result) == ("run", "flow-run-1") and claim.done_at is not None


def test_from_settings_creates_the_sqlite_file_under_outputs(settings) -> None:
    with Store.from_settings(settings) as store:
        store.add_submission(submission("a"))
    assert (settings.outputs / "wpflow.db").is_file()
    with Store.from_settings(settings) as reopened:  # tables exist: create_all is a no-op
        assert len(reopened.submissions("BaltMet Inno")) == 1


def test_add_submissions_in_bulk_keeps_one_row_per_bytes_and_returns_stored_rows(store: Store) -> None:
    first, _ = store.add_submission(submission("a1"))
    batch = [submission("a1"), submission("b2", days=1), submission("c3", partner="tallinn"), submission("b2", days=1)]
    stored = store.add_submissions(batch)
    assert [s.sha256.rstrip("0") for s in stored] == ["a1", "b2", "c3", "b2"]
    assert stored[0] == first
    assert len(store.submissions("BaltMet Inno", milestone="WP3-M2")) == 3
    assert store.add_submissions([]) == []


def test_recording_a_result_replaces_the_issues(store: Store) -> None:
    sub, _ = store.add_submission(submission("a1"))
    two = [Issue(file=sub.file_name, row=2, message="first"), Issue(file=sub.file_name, row=3, message="second")]
    store.record_result(sub, result(sub, valid=False, issues=two))
    assert [i.message for i in store.issues_for(sub)] == ["first", "second"]
    store.record_result(sub, result(sub, valid=False, issues=[Issue(file=sub.file_name, message="only")]))
    assert [i.message for i in store.issues_for(sub)] == ["only"]
    store.record_result(sub, result(sub))
    assert store.issues_for(sub) == [] and by_sha(store.submissions("BaltMet Inno")) == {"a1": (1, "valid")}


def test_a_failed_deployed_run_gives_its_claim_back(store: Store) -> None:
    """The next ladder pass starts the milestone again; e-mails keep their own once-keys."""
    store.claim("run:WP4-M3:abc", project="P", milestone="WP4-M3")
    store.finish_claim("run:WP4-M3:abc", "0b5e-flow-run-id")
    assert store.claim("run:WP4-M3:abc", project="P", milestone="WP4-M3") is False

    assert store.release_claims_of_run("0b5e-flow-run-id") == 1

    assert store.claim("run:WP4-M3:abc", project="P", milestone="WP4-M3") is True
