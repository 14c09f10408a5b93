"""The store's submissions, their versions and issues on SQLite and on the real PostgreSQL server
(every test runs over `db_url`); claims, runs and reports: test_store_claims.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from schemas.records import Issue
from tests.store.records import by_sha, race, result, submission
from wpflow.store.store import Store


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
