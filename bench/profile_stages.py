"""Where a direct pipeline run spends its time: each stage of `run_direct` and the parts of the
validate stage, timed in one process on the synthetic consortium (fresh outputs). A diagnosis
aid for docs/performance.md, not part of `make bench`; it prints no target.

The stage functions are wrapped with timers for this process only (module attributes replaced
here, nothing in wpflow changes). For a call tree, run a sampling profiler over the same thing:
`.venv/bin/pip install pyinstrument` then
`.venv/bin/python -m pyinstrument bench/profile_stages.py --partners 500 --rows 20`.

    .venv/bin/python bench/profile_stages.py [--partners 500] [--rows 20] [--no-mail]
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict

from common import emit, isolated_env, machine, scratch

STAGES = ["collect_stage", "validate_stage", "send_receipts", "merge_stage", "release_stage", "notify_stage"]


def timed_attr(owner: object, name: str, label: str, totals: dict[str, float], counts: dict[str, int]) -> None:
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - start
            counts[label] += 1

    setattr(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=500)
    parser.add_argument("--rows", type=int, default=20, help="rows per file (bench_orchestration uses 20)")
    parser.add_argument(
        "--no-mail", action="store_true", help="collect → validate → merge → render only, as bench_scale.py times them"
    )
    parser.add_argument("--quick", action="store_true", help="100 partners")
    args = parser.parse_args()
    partners = 100 if args.quick else args.partners
    from synthetic import MILESTONE, consortium

    project = consortium(partners, args.rows)
    with scratch("profile") as tmp:
        os.environ.update(isolated_env(project, tmp / "outputs"))
        from wpflow import kinds, mail, mailers, pipeline, render, stages, store, validate
        from wpflow.milestone.direct_run import run_direct
        from wpflow.milestone.report_stage import release_stage
        from wpflow.workspace import workspace

        totals: dict[str, float] = defaultdict(float)
        counts: dict[str, int] = defaultdict(int)
        for name in STAGES:  # run_direct looks them up in its own module
            timed_attr(pipeline, name, name, totals, counts)
        # inside validate: reading, checking rows, and storing each file's result
        for reader_of in (validate, kinds):  # the file read, and kind detection by headers
            timed_attr(reader_of, "read_table", "validate · read_table (python-calamine)", totals, counts)
        timed_attr(validate, "validate_rows", "validate · validate_rows (coerce, pydantic, warnings)", totals, counts)
        timed_attr(stages, "gate_submission", "validate · gate_submission (size, zip, metadata sheet)", totals, counts)
        timed_attr(store.Store, "record_results", "validate · Store.record_results", totals, counts)
        timed_attr(
            render, "chart_png", "render · chart_png (matplotlib, a bar per city)", totals, counts
        )  # as render calls it
        # inside receipts and notify: composing, writing and bookkeeping each e-mail
        timed_attr(mailers.OutboxMailer, "send", "mail · OutboxMailer.send (as_bytes + write)", totals, counts)
        timed_attr(store.Store, "claim_notification", "mail · Store.claim_notification", totals, counts)
        timed_attr(store.Store, "mark_sent", "mail · Store.mark_sent", totals, counts)
        timed_attr(store.Store, "was_sent", "mail · Store.was_sent", totals, counts)
        for name in ("compose_report_email", "compose_receipt_email"):
            timed_attr(mail, name, f"mail · {name}", totals, counts)

        start = time.perf_counter()
        if args.no_mail:
            from datetime import date

            ws = workspace()
            milestone = ws.milestone(MILESTONE)
            checked = stages.validate_stage(ws, milestone, stages.collect_stage(ws, milestone, None))
            release_stage(ws, milestone, stages.merge_stage(ws, milestone, checked, date(2005, 6, 30)))
        else:
            run_direct(workspace(), MILESTONE, None)
        wall = time.perf_counter() - start
        outbox = workspace().settings.outbox_dir
        outbox_mb = sum(p.stat().st_size for p in outbox.iterdir()) / 1e6 if outbox.exists() else 0.0
        mails = sum(1 for _ in outbox.glob("*.eml")) if outbox.exists() else 0

    what = "collect → validate → merge → render" if args.no_mail else "run_direct"
    print(f"{what}, {partners} partners × 5 files × {args.rows} rows; {machine()}")
    print(f"{'':<58} {'s':>7} {'share':>6} {'calls':>6}")
    print(f"{'whole run':<58} {wall:7.2f} {1:6.0%}")
    for label, seconds in sorted(totals.items(), key=lambda kv: (kv[0] not in STAGES, -kv[1])):
        print(f"{label:<58} {seconds:7.2f} {seconds / wall:6.0%} {counts[label]:>6}")
    print(f"outbox: {mails} e-mails, {outbox_mb:.0f} MB")
    emit(
        {
            "name": "profile_stages",
            "partners": partners,
            "rows_per_file": args.rows,
            "wall_s": round(wall, 2),
            "seconds": {k: round(v, 2) for k, v in totals.items()},
            "outbox_mb": round(outbox_mb),
            "emails": mails,
        }
    )


if __name__ == "__main__":
    main()
