"""The milestone pipeline: collect → validate → merge → render → notify, as a Prefect flow."""

from __future__ import annotations

from datetime import date

from prefect import flow
from prefect.runtime import flow_run
from prefect.utilities.annotations import opaque

from schemas.records import ReportRef
from tasks.collect import collect_submissions
from tasks.merge import merge_milestone
from tasks.notify import notify_partners, send_partner_receipts
from tasks.publish import publish_artifacts
from tasks.render import render_report
from tasks.validate import validate_submissions
from wpflow.stages import recorded_run, workspace


def milestone_run_name() -> str:
    """`WP3-M2 · due 2005-12-31` — what a secretariat member scans for in the UI."""
    milestone = workspace().milestone(flow_run.parameters["milestone_id"])
    as_of = flow_run.parameters.get("as_of")
    return f"{milestone.id} · due {milestone.due}" + (f" · as of {as_of}" if as_of else "")


@flow(name="milestone-pipeline", flow_run_name=milestone_run_name, validate_parameters=True)
def milestone_pipeline(milestone_id: str, as_of: date | None = None) -> ReportRef:
    """Run one milestone: the partners' files become a Word report in their inboxes.

    `opaque(...)` passes the validated rows and the summary as they are: by default Prefect walks
    every element of a task's arguments looking for futures, which at 500 partners (250 000
    rows) cost more than the pipeline itself (bench/bench_orchestration.py, docs/performance.md).
    """
    day = as_of or date.today()
    with recorded_run(workspace(), milestone_id, as_of, flow_run_id=str(flow_run.id)) as run:
        submissions = collect_submissions(milestone_id, as_of)
        checked = validate_submissions(milestone_id, submissions)
        send_partner_receipts(milestone_id, opaque(checked))
        summary = merge_milestone(milestone_id, opaque(checked), day)
        run.report = render_report(opaque(summary))
        notify_partners(milestone_id, opaque(summary), run.report)
        publish_artifacts(opaque(summary), run.report)
    return run.report


@flow(name="all-milestones", flow_run_name="all milestones")
def all_milestones(milestone_ids: list[str] | None = None, as_of: date | None = None) -> list[ReportRef]:
    """Every milestone of the project (or the ones named), each as its own subflow run."""
    ids = milestone_ids or [m.id for m in workspace().project.milestones()]
    return [milestone_pipeline(milestone_id, as_of) for milestone_id in ids]
