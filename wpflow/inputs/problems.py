"""Bounded lists of problems: what a receipt, a quarantine note or an annotated copy shows of a
file with thousands of errors.

The first `SHOWN_PROBLEMS` are written out in full, then a count of the rest; the complete list
travels as a CSV attachment, itself cut at `PROBLEMS_CSV_CAP` bytes. A receipt for 15 000 errors
was once a 2.3 MB, 15 015-line e-mail: nobody reads past the first screen, and mail servers
refuse such bodies.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from schemas.records import Issue
from wpflow.report.plain_words import format_value

SHOWN_PROBLEMS = 50  # in an e-mail body or a quarantine note
MARKED_PROBLEMS = 1000  # cells filled and commented in an annotated copy
PROBLEMS_CSV_CAP = 1 << 20  # bytes of the attached problems.csv
PROBLEMS_CSV = "problems.csv"
CSV_HEADER = ["severity", "file", "sheet", "row", "column", "field", "value", "message"]


def first_problems(issues: Sequence[Issue], limit: int = SHOWN_PROBLEMS) -> tuple[list[Issue], int]:
    """The first `limit` issues and how many more there are."""
    return list(issues[:limit]), max(0, len(issues) - limit)


def more_line(more: int, where: str = f"the attached {PROBLEMS_CSV}") -> str:
    """`… and 14 950 more problems, all listed in the attached problems.csv` (the count as the
    report writes numbers: `wording.format_value`)."""
    return f"… and {format_value(more)} more problem{'s' if more != 1 else ''}, all listed in {where}"


def problems_csv(issues: Sequence[Issue], cap: int = PROBLEMS_CSV_CAP) -> bytes:
    """Every issue as a CSV row (UTF-8 with BOM: Excel opens it right), stopping before `cap`
    bytes with a last row saying how many were left out."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    size = len(out.getvalue().encode("utf-8"))
    for n, issue in enumerate(issues):
        row = io.StringIO()
        csv.writer(row).writerow(
            [
                issue.severity,
                issue.file,
                issue.sheet or "",
                issue.row or "",
                issue.column or "",
                issue.field or "",
                issue.value or "",
                issue.message,
            ]
        )
        encoded = len(row.getvalue().encode("utf-8"))
        if size + encoded > cap - 200:  # room for the closing row
            writer.writerow(
                [
                    "note",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    f"{len(issues) - n} more problems not listed: the list is cut at {cap // 1024} KB",
                ]
            )
            break
        out.write(row.getvalue())
        size += encoded
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


class ReceiptProblems(BaseModel):
    """What a receipt shows of a file's problems: the first ones in full, the rest counted and
    attached as CSV."""

    model_config = ConfigDict(extra="forbid")

    errors: list[str] = Field(description="The first errors, each as `location: 'value' message`")
    warnings: list[str] = Field(description="The first warnings, after the errors, within the same bound")
    error_count: int = Field(description="How many errors the file has in all")
    more: str | None = Field(None, description="The line counting what is not shown; None when all are")
    csv: bytes | None = Field(None, description="problems.csv with every problem, when not all are shown")


def receipt_problems(issues: Sequence[Issue], limit: int = SHOWN_PROBLEMS) -> ReceiptProblems:
    """Errors first, then warnings, `limit` lines in all."""
    errors = [i for i in issues if i.severity == "error"]
    warnings = [i for i in issues if i.severity != "error"]
    shown_errors, _ = first_problems(errors, limit)
    shown_warnings, _ = first_problems(warnings, limit - len(shown_errors))
    more = len(issues) - len(shown_errors) - len(shown_warnings)
    return ReceiptProblems(
        errors=[str(i) for i in shown_errors],
        warnings=[str(i) for i in shown_warnings],
        error_count=len(errors),
        more=more_line(more) if more else None,
        csv=problems_csv([*errors, *warnings]) if more else None,
    )
