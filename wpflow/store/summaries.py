"""The milestone summaries the reports were rendered from, kept beside their versions.

A WP's final report and the project's joint final report tell what the milestone reports said:
their tables, who delivered what, the files used. They read it here — never the partners'
files again, which may have been replaced or removed since. The detail rows (every scheme,
every institution; 250 000 of them at 500 partners) are left out: the final reports compare
cities, and each milestone report keeps the details.
"""

from __future__ import annotations

from sqlalchemy import select

from schemas.records import WPSummary
from wpflow.store.engine import StoreBase
from wpflow.store.orm import MilestoneSummaryRow


def shelved(summary: WPSummary) -> WPSummary:
    """The summary as kept: every table without its detail rows."""
    return summary.model_copy(update={"tables": [t.model_copy(update={"details": []}) for t in summary.tables]})


class Summaries(StoreBase):
    def keep_summary(self, project: str, milestone: str, version: int, summary: WPSummary) -> None:
        """Keep the summary version `version` was rendered from (once; a re-render keeps the first)."""
        text = shelved(summary).model_dump_json()
        self._insert_once(
            MilestoneSummaryRow(project=project, milestone=milestone, version=version, summary=text),
            lambda session: session.scalar(
                select(MilestoneSummaryRow).where(
                    MilestoneSummaryRow.project == project,
                    MilestoneSummaryRow.milestone == milestone,
                    MilestoneSummaryRow.version == version,
                )
            ),
        )

    def kept_summaries(self, project: str, milestones: list[str] | None = None) -> dict[tuple[str, int], WPSummary]:
        """(milestone, version) → the summary kept for it, for the project (or the milestones named)."""
        query = select(MilestoneSummaryRow).where(MilestoneSummaryRow.project == project)
        if milestones is not None:
            query = query.where(MilestoneSummaryRow.milestone.in_(milestones))
        with self._transaction() as session:
            return {(r.milestone, r.version): WPSummary.model_validate_json(r.summary) for r in session.scalars(query)}
