"""The headers `wpflow init` accepts, in one table per sheet: each canonical name with what people
write for it. `init --help`, the unknown-column errors and docs/new-project.md's table are all
made from these tables (a test compares the document with `headers_markdown`), so what is
documented is what is accepted.

A header is compared after `normalise_header` with underscores dropped: case, spaces, hyphens,
a unit in brackets and a trailing star or colon do not matter ('E-mail', 'e_mail', 'Email *' are
email; 'Local co-ordinator' is local_coordinator), so the tables list only other words.
"""

from __future__ import annotations

from wpflow.inputs.headers import normalise_header

Columns = dict[str, tuple[str, ...]]  # canonical name → the other headers that mean it

PARTNER_COLUMNS: Columns = {
    "id": ("partner id", "partner no", "partner number"),
    "name": ("partner", "partner name", "short name", "acronym"),
    "city": ("metropolis", "town", "municipality"),
    "country": ("nation", "country name"),
    "organisation": ("organization", "institution", "organisation name", "organization name", "legal name"),
    "role": ("partner role", "partner type", "type"),
    "email": ("mail", "emails", "email address", "contact e-mail", "contact"),
    "local_coordinator": ("delivers inputs",),
    "region": ("metropolitan region", "nuts region"),
    "assumed": (),
    "note": ("notes", "remarks", "comment", "comments"),
}
MILESTONE_COLUMNS: Columns = {
    "wp": ("work package", "wp id", "wp no", "wp number"),
    "wp_title": ("work package title", "wp name", "work package name"),
    "coordinator": ("wp coordinator", "wp leader", "leader", "lead partner"),
    "milestone": ("milestone id", "ms", "milestone no", "milestone number"),
    "title": ("milestone title", "milestone name"),
    "start": ("period start", "from", "start date", "starts", "begin"),
    "end": ("period end", "to", "end date", "ends", "until"),
    "due": ("due date", "deadline", "due on", "report due", "submission deadline"),
    "inputs": ("required inputs", "input kinds", "kinds", "inputs by kind", "partner inputs"),
    "meetings": ("meeting", "events"),
    "activities": ("activity", "tasks"),
    "assumed": (),
    "note": ("notes", "remarks", "comment", "comments"),
}
# The Project sheet: two columns, then a row per fact (its field named in one of these ways)
PROJECT_COLUMNS: Columns = {"field": ("key", "item", "setting", "what"), "value": ()}
PROJECT_FIELDS: Columns = {
    "name": ("short name", "acronym", "project acronym", "project name", "project"),
    "title": ("full title", "project title"),
    "programme": ("program", "funding programme", "funding program", "programme name"),
    "programme_period": ("programming period", "program period", "period"),
    "project_period": ("duration", "project duration", "lifetime"),
    "start": ("project start", "start date", "begins"),
    "end": ("project end", "end date", "ends"),
    "secretariat_email": (
        "secretariat mail",
        "sender",
        "sender e-mail",
        "from address",
        "email",
        "mail",
    ),
    "timezone": ("tz", "zone"),
    "assumed": ("work plan assumed",),
    "assumed_note": ("assumption note", "why assumed"),
}
# The Kinds sheet: a row per field of a kind of the project's own
KIND_COLUMNS: Columns = {
    "kind": ("input kind", "kind name", "input"),
    "kind_description": ("about the kind",),
    "field": ("field name", "column", "column name"),
    "type": ("field type", "data type"),
    "unit": ("units", "unit of measure"),
    "values": ("allowed values", "choices", "options", "list of values"),
    "required": ("mandatory", "must be filled"),
    "min": ("minimum", "at least", "lowest"),
    "max": ("maximum", "at most", "highest"),
    "description": ("field description", "explanation", "help"),
    "sum": ("summed", "total", "report sums", "sum in report"),
}
SHEETS: dict[str, Columns] = {
    "Partners": PARTNER_COLUMNS,
    "Milestones": MILESTONE_COLUMNS,
    "Project": PROJECT_FIELDS,
    "Kinds": KIND_COLUMNS,
}


def header_key(written: object) -> str:
    """How a header is compared: 'E-mail *' → 'email', 'Programme period' → 'programmeperiod'."""
    return normalise_header(written).replace("_", "")


def lookup(columns: Columns) -> dict[str, str]:
    """Every accepted header (compared as `header_key`) → its canonical name."""
    return {header_key(written): name for name, others in columns.items() for written in (name, *others)}


def shown(name: str) -> str:
    """A canonical name as a person writes it: 'programme_period' → 'programme period'."""
    return name.replace("_", " ")


def accepted(columns: Columns) -> str:
    """'name (or partner, short name), city, …': for `--help` and the unknown-column error."""
    return ", ".join(f"{shown(n)} (or {', '.join(others)})" if others else shown(n) for n, others in columns.items())


def headers_markdown() -> str:
    """docs/new-project.md's table of accepted headers, made from the tables above."""
    lines = ["| sheet | header | also accepted |", "|---|---|---|"]
    for sheet, columns in SHEETS.items():
        for name, others in columns.items():
            lines.append(f"| {sheet} | {shown(name)} | {', '.join(others) or '—'} |")
    return "\n".join(lines) + "\n"
