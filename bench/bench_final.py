"""The final reports of the 500-partner synthetic consortium, timed next to its milestone.

One child process runs the milestone (collect → validate → merge → render, as bench_scale) and
then the final reports from the store: the WP's story and its report, then the project's story
and the joint final report (e-mail left out, as in bench_scale: that is notify's cost). The
final reports read only the store — the milestone's kept summary, its versions, its files'
statuses — so their time must not grow with the partners' rows, only with the partners.

Target: the WP report and the joint final report together take no longer than the milestone's
own render of the same consortium in the same run (≤ 1×) at 500 partners (2 500 inputs, a
500-row city table per kind): a ratio, so the verdict holds whatever the machine's speed.

    .venv/bin/python bench/bench_final.py [--quick] [--partners 500]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from common import emit, isolated_env, machine, scratch, tied

ROWS = 100
TARGET_RATIO = 1.0  # × the milestone's render, same run
DAY = date(2007, 12, 31)  # the synthetic project's end: both reports are final, not drafts


def child() -> dict:
    from synthetic import MILESTONE

    from schemas.settings import Settings
    from wpflow.final.issue import issue_story
    from wpflow.final.stages import project_story_stage, wp_story_stage
    from wpflow.milestone.report_stage import release_stage
    from wpflow.milestone.stages import collect_stage, merge_stage, validate_stage
    from wpflow.workspace import workspace

    ws = workspace(settings=Settings())
    milestone = ws.milestone(MILESTONE)
    times: dict[str, float] = {}
    last = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        times[name] = round(now - last, 3)
        last = now

    checked = validate_stage(ws, milestone, collect_stage(ws, milestone, None))
    lap("milestone_collect_validate")
    summary = merge_stage(ws, milestone, checked, DAY)
    lap("milestone_merge")
    release_stage(ws, milestone, summary)
    lap("milestone_render")
    wp = wp_story_stage(ws, milestone.wp_id, DAY)
    lap("wp_story")
    wp_issue = issue_story(ws, wp)
    lap("wp_render")
    project = project_story_stage(ws, DAY)
    lap("project_story")
    final_issue = issue_story(ws, project)
    lap("final_render")
    return {
        "partners": len(ws.project.participants),
        "rows": sum(c.result.rows_read for c in checked),
        "stages": times,
        "wp_docx_kb": round(Path(wp_issue.path).stat().st_size / 1024),
        "final_docx_kb": round(Path(final_issue.path).stat().st_size / 1024),
        "versions": [wp_issue.version, final_issue.version],
    }


def run(partners: int) -> dict:
    from synthetic import consortium

    project = consortium(partners, ROWS)
    with scratch(f"final{partners}") as tmp:
        env = {**os.environ, **isolated_env(project, tmp / "outputs")}
        done = subprocess.run(
            [sys.executable, __file__, "--child"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            preexec_fn=tied(),
        )
    if done.returncode != 0:
        raise SystemExit(f"child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="14 partners, a smoke test")
    parser.add_argument("--partners", type=int, default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        emit(child())
        return
    partners = args.partners or (14 if args.quick else 500)
    print(f"final reports: {partners} partners × 5 XLSX × {ROWS} rows; {machine()}")
    r = run(partners)
    s = r["stages"]
    milestone_s = s["milestone_merge"] + s["milestone_render"]
    final_s = s["wp_story"] + s["wp_render"] + s["project_story"] + s["final_render"]
    print(
        f"milestone: collect + validate {s['milestone_collect_validate']:.2f} s, merge {s['milestone_merge']:.2f} s, "
    )
    print(f"           render {s['milestone_render']:.2f} s ({r['rows']} rows in its detail tables)")
    print(f"WP report: story {s['wp_story']:.2f} s, render {s['wp_render']:.2f} s ({r['wp_docx_kb']} KB)")
    print(f"final:     story {s['project_story']:.2f} s, render {s['final_render']:.2f} s ({r['final_docx_kb']} KB)")
    print(f"final reports together {final_s:.2f} s vs the milestone's merge + render {milestone_s:.2f} s")
    ratio = final_s / s["milestone_render"] if s["milestone_render"] else None
    met = None
    if partners >= 500 and ratio is not None:
        met = ratio <= TARGET_RATIO
        print(
            f"target: ≤ {TARGET_RATIO:.0f}× the milestone's render at 500 partners — {'met' if met else 'MISSED'} "
            f"({ratio:.2f}×: {final_s:.1f} s vs {s['milestone_render']:.1f} s)"
        )
    emit(
        {
            "name": "final_reports",
            "partners": partners,
            "final_s": round(final_s, 2),
            "milestone_render_s": s["milestone_render"],
            "ratio": round(ratio, 2) if ratio is not None else None,
            "stages": s,
            "target": f"<= {TARGET_RATIO:.0f}x the milestone's render at 500",
            "target_met": met,
        }
    )


if __name__ == "__main__":
    main()
