"""NordHydro, a new consortium's spreadsheets as a secretariat writes them by hand: 6 partners in
5 countries, 3 WPs, 8 milestones in 2008–2010, natural headers ('Email', 'WP leader',
'Deadline', 'Programming period'), dates typed every which way — and a Kinds sheet declaring
an input kind of its own (pilot sites). Kiel's e-mail is missing, as it was in the issue."""

from __future__ import annotations

from datetime import date
from typing import Any

PARTNERS: list[list[Any]] = [
    ["Partner", "City", "Country", "Organization", "Role", "Email"],
    ["Aarhus", "Aarhus", "Denmark", "Aarhus Water", "Lead partner", "aarhus@nordhydro.eu"],
    ["Kiel", "Kiel", "Germany", "Stadtwerke Kiel", "Partner", ""],  # the one real error
    ["Lübeck", "Lübeck", "Germany", "Hansestadt Lübeck", "Partner", "luebeck@nordhydro.eu"],
    ["Gothenburg", "Gothenburg", "Sweden", "Chalmers", "Partner", "goteborg@nordhydro.eu"],
    ["Bergen", "Bergen", "Norway", "Bergen Vann", "Partner", "bergen@nordhydro.eu"],
    ["Turku", "Turku", "Finland", "Turku Energia", "Partner", "turku@nordhydro.eu"],
]
KIEL_ROW = 2  # the index of Kiel's row above (row 3 of the sheet)

PROJECT: list[list[Any]] = [
    ["Field", "Value"],
    ["Acronym", "NordHydro"],
    ["Project title", "Small hydro and water energy in the Nordic-Baltic region"],
    ["Programme", "Interreg IVB Baltic Sea Region"],
    ["Programming period", "2007-2013"],
    ["Project period", "2008–2010"],
    ["Secretariat e-mail", "secretariat@nordhydro.eu"],
    ["Time zone", "Europe/Copenhagen"],
]

HEADER = ["Work package", "WP title", "WP leader", "Milestone", "Milestone title", "Start date", "End date"]
HEADER += ["Deadline", "Required inputs", "Meetings"]
MILESTONES: list[list[Any]] = [
    HEADER,
    [
        "WP1",
        "Management",
        "Aarhus",
        "M1",
        "Kick-off",
        date(2008, 1, 1),
        date(2008, 6, 30),
        date(2008, 6, 30),
        "progress_narrative from all cities",
        "Aarhus 2008-03: Kick-off meeting",
    ],
    ["", "", "", "M2", "First year", "1.7.2008", "31.12.2008", "31.12.2008", "progress_narrative", ""],
    ["", "", "", "M3", "Closing", "2010-07-01", "2010-12-31", "December 31, 2010", "progress_narrative", ""],
    [
        "WP2",
        "Pilot sites",
        "Kiel",
        "M1",
        "Sites chosen",
        "2009-01-01",
        "2009-06-30",
        "30 June 2009",
        "Pilot sites",
        "Kiel 5/2009: Site visits",
    ],
    ["", "", "", "M2", "Sites opened", "2009-07-01", "2009-12-31", "31/12/2009", "Pilot sites from Kiel, Bergen", ""],
    ["", "", "", "M3", "Sites running", "2010-01-01", "2010-06-30", "30 Jun 2010", "pilot_sites", ""],
    [
        "WP3",
        "Dissemination",
        "Turku",
        "M1",
        "Seminars",
        "2009-01-01",
        "2009-12-31",
        date(2009, 12, 31),
        "Meeting and workshop reports from Turku: the seminar's report",
        "Turku 10/2009: Seminar",
    ],
    ["", "", "", "M2", "Final conference", "2010-01-01", "2010-12-31", "20.12.2010", "progress_narrative", ""],
]
DUE_ROW, DUE_COLUMN = 4, 7  # WP2-M1's deadline, typed "30 June 2009"

KINDS: list[list[Any]] = [
    ["Input kind", "Field", "Type", "Unit", "Allowed values", "Required", "Minimum", "Maximum", "Total"],
    ["Pilot sites", "Site name", "text", "", "", "yes", "", "", ""],
    ["", "Country", "", "", "Denmark; Germany; Sweden; Norway; Finland", "yes", "", "", ""],
    ["", "Capacity", "number", "kW", "", "yes", 0, "", "yes"],
    ["", "Year opened", "whole number", "", "", "no", "project start", "project end", ""],
]


def edited(rows: list[list[Any]], row: int, column: int, value: Any) -> list[list[Any]]:
    out = [r[:] for r in rows]
    out[row][column] = value
    return out
