"""A small consortium as the spreadsheets `wpflow init` reads (partners, work plan, project facts),
ways to write and edit them, and the command run through the real app."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from typer.testing import CliRunner, Result

from tests.conftest import ROOT
from wpflow.cli.app import app

SPB = ROOT / "projects" / "spb-innoreg"
SOURCE = SPB / "source"

PARTNERS = [
    ["name", "city", "country", "organisation", "role", "e-mail"],
    ["Tampere", "Tampere", "Finland", "City of Tampere", "lead", "tampere@example.org"],
    ["Berlin", "Berlin", "Germany", "TSB Innovationsagentur Berlin", "partner", "berlin@example.org"],
    ["St. Petersburg", "St. Petersburg", "Russia", "City of St. Petersburg", "partner", "spb@example.org"],
]
MILESTONES = [
    ["WP", "WP title", "Coordinator", "Milestone", "Title", "Start", "End", "Due", "Inputs", "Meetings"],
    [
        "WP1",
        "Management",
        "Tampere",
        "M1",
        "Kick-off",
        "2006-07-01",
        "2006-12-31",
        "2006-12-31",
        "progress_narrative",
        "",
    ],
    [
        "",
        "",
        "",
        "M2",
        "Clusters",
        "2007-01-01",
        "2007-06-30",
        "30.06.2007",
        "Pre-phase clusters",
        "Berlin 3/2007: Workshop",
    ],
]
FACTS = [
    ["Field", "Value"],
    ["Name", "Test Project"],
    ["Programme", "Interreg IIIB"],
    ["Secretariat e-mail", "secretariat@example.org"],
    ["Time zone", "Europe/Berlin"],
]


def wpflow(args: list[str], tmp: Path, answers: str | None = None) -> Result:
    env = {"WPFLOW_OUTPUTS": str(tmp / "outputs"), "PREFECT_API_URL": None, "COLUMNS": "200"}
    return CliRunner().invoke(app, args, env=env, input=answers)


def write_csv(path: Path, rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append([as_cell(v) for v in row])
    workbook.save(path)
    return path


def as_cell(value: Any) -> Any:
    """An ISO date as a workbook's date cell, as a secretariat's sheet holds it; anything else as written."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else value
    except ValueError:
        return value


def edited(rows: list[list[Any]], row: int, column: int, value: Any) -> list[list[Any]]:
    out = [r[:] for r in rows]
    out[row][column] = value
    return out


def init_args(directory: Path, partners: Path, workplan: Path, *more: str) -> list[str]:
    return ["init", str(directory), "--partners", str(partners), "--workplan", str(workplan), *more]
