"""Records the store tests write: submissions arriving on given days, their validation results;
and a race of threads released at one instant."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from schemas.records import Issue, Submission, ValidationResult

T0 = datetime(2006, 5, 2, 9, 30, tzinfo=UTC)


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
