"""The store on SQLite and on the real PostgreSQL server (every test runs over `db_url`)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from schemas.records import Issue, PartnerState, ReportRef, Submission, ValidationResult, VersionContents
from wpflow.store.issued import About
from wpflow.store.store import Store

T0 = datetime(2006, 5, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store(db_url) as s:
        yield s


def submission(sha: str, *, partner: str = "riga", days: int = 0, milestone: str = "WP3-M2") -> Submission:
    """A submission whose file arrived `days` after T0; `sha` is padded to a 64-char hash."""
    return Submission(
        project="BaltMet Inno",
        partner=partner,
        milestone=milestone,
        file_name=f"clusters-{sha}.xlsx",
        sha256=sha.ljust(64, "0"),
        size=1234 + days,
        received_at=T0 + timedelta(days=30),
        modified_at=T0 + timedelta(days=days),
        archive_path=f"/archive/{sha.ljust(64, '0')}",
    )


def result(
    sub: Submission, *, valid: bool = True, kind: str | None = "clusters", issues: list[Issue] | None = None
) -> ValidationResult:
    issues = issues if issues is not None else ([] if valid else [Issue(file=sub.file_name, message="broken")])
    return ValidationResult(file=sub.file_name, kind=kind, issues=issues)


def by_sha(subs: list[Submission]) -> dict[str, tuple[int, str]]:
    """{short sha: (version, status)} — the compact form the assertions compare."""
    return {s.sha256.rstrip("0"): (s.version, s.status) for s in subs}


def race(workers: int, job: Callable[[int], object]) -> list[object]:
    """Run `job(i)` in `workers` threads released at the same instant; return their results."""
    barrier = threading.Barrier(workers)
    results: list[object] = [None] * workers
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = job(i)
        except BaseException as exc:  # surfaced below, not swallowed by the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


# -- submissions --------------------------------------------------------------------------
def test_same_bytes_twice_is_one_submission(store: Store) -> None:
    first, created = store.add_submission(submission("a"))
    again, created_again = store.add_submission(submission("a").model_copy(update={"file_name": "renamed.xlsx"}))

    assert (created, created_again) == (True, False)
    assert again == first
    assert again.file_name == "clusters-a.xlsx"  # the stored one, not the new name
    assert len(store.submissions("BaltMet Inno", "WP3-M2")) == 1


def test_same_bytes_from_another_partner_is_another_submission(store: Store) -> None:
    store.add_submission(submission("a", partner="riga"))
    _, created = store.add_submission(submission("a", partner="malmo"))

    assert created is True
    assert {s.partner for s in store.submissions("BaltMet Inno")} == {"riga", "malmo"}


def test_submission_round_trips_with_utc_datetimes(store: Store) -> None:
    helsinki = timezone(timedelta(hours=3))
    sub = submission("a").model_copy(update={"modified_at": datetime(2006, 5, 2, 12, 30, tzinfo=helsinki)})

    stored, _ = store.add_submission(sub)
    (listed,) = store.submissions("BaltMet Inno", partner="riga")

    assert listed == stored
    assert listed.modified_at == datetime(2006, 5, 2, 9, 30, tzinfo=UTC)
    assert listed.modified_at.tzinfo is not None and listed.modified_at.utcoffset() == timedelta(0)
    assert listed.model_dump(exclude={"modified_at"}) == sub.model_dump(exclude={"modified_at"})


def test_concurrent_adds_of_the_same_bytes_create_one_row(db_url: str) -> None:
    stores = [Store(db_url), Store(db_url)]
    try:
        created = race(8, lambda i: stores[i % 2].add_submission(submission("a"))[1])
        assert created.count(True) == 1
        assert len(stores[0].submissions("BaltMet Inno")) == 1
    finally:
        for s in stores:
            s.close()


# -- versions, supersede, latest ------------------------------------------------------------
def test_new_valid_version_supersedes_the_earlier_one(store: Store) -> None:
    v1, v2 = submission("a", days=1), submission("b", days=2)
    store.add_submission(v1)
    store.add_submission(v2)

    recorded_v1 = store.record_result(v1, result(v1))
    recorded_v2 = store.record_result(v2, result(v2))

    assert (recorded_v1.version, recorded_v1.status, recorded_v1.kind) == (1, "valid", "clusters")
    assert (recorded_v2.version, recorded_v2.status) == (2, "valid")
    assert by_sha(store.submissions("BaltMet Inno", "WP3-M2")) == {"a": (1, "superseded"), "b": (2, "valid")}
    assert by_sha(store.latest("BaltMet Inno", "WP3-M2")) == {"b": (2, "valid")}


def test_invalid_later_version_keeps_the_valid_one_usable(store: Store) -> None:
    v1, v2, v3 = submission("a", days=1), submission("b", days=2), submission("c", days=3)
    for sub, ok in ((v1, True), (v2, True), (v3, False)):
        store.record_result(sub, result(sub, valid=ok))

    assert by_sha(store.submissions("BaltMet Inno", "WP3-M2")) == {
        "a": (1, "superseded"),
        "b": (2, "valid"),
        "c": (3, "invalid"),
    }
    latest = store.latest("BaltMet Inno", "WP3-M2")
    assert [(s.sha256.rstrip("0"), s.status) for s in latest] == [("c", "invalid"), ("b", "valid")]


def test_recording_out_of_arrival_order_or_twice_gives_the_same_state(store: Store) -> None:
    v1, v2 = submission("a", days=1), submission("b", days=2)
    store.record_result(v2, result(v2))
    store.record_result(v1, result(v1))  # the older file validated last (e.g. a re-run)
    store.record_result(v2, result(v2))
    store.record_result(v1, result(v1))

    assert by_sha(store.submissions("BaltMet Inno", "WP3-M2")) == {"a": (1, "superseded"), "b": (2, "valid")}


def test_versions_count_per_partner_milestone_and_kind(store: Store) -> None:
    clusters, seed = submission("a", days=1), submission("b", days=2)
    other_partner = submission("c", partner="malmo", days=3)
    store.record_result(clusters, result(clusters, kind="clusters"))
    store.record_result(seed, result(seed, kind="seed_funding"))
    store.record_result(other_partner, result(other_partner, kind="clusters"))

    assert by_sha(store.submissions("BaltMet Inno")) == {"a": (1, "valid"), "b": (1, "valid"), "c": (1, "valid")}
    latest = store.latest("BaltMet Inno", "WP3-M2")
    assert sorted((s.partner, s.kind) for s in latest) == [
        ("malmo", "clusters"),
        ("riga", "clusters"),
        ("riga", "seed_funding"),
    ]


@pytest.mark.parametrize("milestone", ["WP3-M2", "WP3-M3"], ids=["one by one", "one batch"])
def test_recording_in_one_batch_gives_the_state_of_recording_one_by_one(store: Store, milestone: str) -> None:
    """The validate stage records a chunk of files at once: versions, statuses and issues are
    those of recording the same results file by file, in the same order, on either database."""
    a, b, c = (submission(sha, days=day, milestone=milestone) for sha, day in (("a", 1), ("b", 2), ("c", 3)))
    seed, malmo = submission("d", days=4, milestone=milestone), submission("e", partner="malmo", milestone=milestone)
    broken = [Issue(file=c.file_name, sheet="Clusters", row=7, column="D", message="not a number")]
    results = [
        (c, result(c, valid=False, issues=broken)),  # newest, invalid: b stays the usable one
        (a, result(a)),
        (seed, result(seed, kind="seed_funding")),
        (b, result(b, valid=False)),
        (malmo, result(malmo)),
        (b, result(b)),  # given twice: the last result counts
    ]
    store.add_submissions([a, b, seed, malmo])  # c was never collected: recorded all the same
    if milestone == "WP3-M2":
        returned = [store.record_result(sub, res) for sub, res in results]
    else:
        returned = store.record_results(results)

    expected = {"a": (1, "superseded"), "b": (2, "valid"), "c": (3, "invalid"), "d": (1, "valid"), "e": (1, "valid")}
    assert by_sha(store.submissions("BaltMet Inno", milestone)) == expected
    assert [s.sha256.rstrip("0") for s in returned] == ["c", "a", "d", "b", "e", "b"]
    assert by_sha(returned[-2:]) == {"e": (1, "valid"), "b": (2, "valid")}
    assert [(i.sheet, i.row, i.column, i.message) for i in store.issues_for(c)] == [
        ("Clusters", 7, "D", "not a number")
    ]
    assert store.issues_for(b) == []


def test_invalid_first_version_then_valid(store: Store) -> None:
    v1, v2 = submission("a", days=1), submission("b", days=2)
    store.record_result(v1, result(v1, valid=False))
    store.record_result(v2, result(v2))

    assert by_sha(store.submissions("BaltMet Inno")) == {"a": (1, "invalid"), "b": (2, "valid")}
    assert by_sha(store.latest("BaltMet Inno", "WP3-M2")) == {"b": (2, "valid")}


def test_filters_of_submissions(store: Store) -> None:
    store.add_submission(submission("a", partner="riga"))
    store.add_submission(submission("b", partner="malmo"))
    store.add_submission(submission("c", partner="riga", milestone="WP3-M3"))

    assert [s.sha256[0] for s in store.submissions("BaltMet Inno", "WP3-M2", partner="riga")] == ["a"]
    assert {s.sha256[0] for s in store.submissions("BaltMet Inno", "WP3-M2")} == {"a", "b"}
    assert len(store.submissions("BaltMet Inno")) == 3
    assert store.submissions("Other project") == []


# -- issues -------------------------------------------------------------------------------
def test_issues_round_trip_in_order_and_are_replaced(store: Store) -> None:
    sub = submission("a")
    issues = [
        Issue(
            file=sub.file_name,
            sheet="Clusters",
            row=7,
            column="D",
            field="budget_eur",
            value="12,5 k",
            message="is not a number",
        ),
        Issue(file=sub.file_name, message="no partner city given", severity="warning"),
        Issue(file=sub.file_name, sheet="Clusters", row=2, column="A", field="name", value="", message="is empty"),
    ]
    store.record_result(sub, result(sub, valid=False, issues=issues))

    assert store.issues_for(sub) == issues
    assert (
        str(store.issues_for(sub)[0])
        == "clusters-a.xlsx, sheet Clusters, row 7, column D (budget_eur): '12,5 k' is not a number"
    )

    store.record_result(sub, result(sub, valid=True, issues=[issues[1]]))
    assert store.issues_for(sub) == [issues[1]]
    assert store.submissions("BaltMet Inno")[0].status == "valid"  # a warning does not block


def test_issues_of_unknown_submission_are_empty(store: Store) -> None:
    assert store.issues_for(submission("z")) == []


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
