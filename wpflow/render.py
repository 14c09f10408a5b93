"""Render a milestone's `WPSummary` into a Word report from the editable docxtpl template.

The wording and layout live in `templates/report.docx` (edit it in Word); this module only
supplies the variables. Parts whose shape depends on the data (a comparative table per input
kind with its own columns, charts, narratives) are built as docxtpl subdocuments.
"""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schemas.inputs import INPUT_KINDS
from schemas.records import ComparativeTable, ReportRef, WPSummary

import wpflow


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fmt(value: Any) -> str:
    """Numbers with thin spaces between thousands, no decimals for whole numbers."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else ("yes" if value else "no")
    if isinstance(value, (int, float)):
        return f"{value:,.0f}".replace(",", "\u202f") if float(value).is_integer() else f"{value:,.2f}".replace(",", "\u202f")
    return str(value)


def marker(name: str) -> str:
    """Text a placeholder paragraph renders to; replaced afterwards by data-shaped content."""
    return f"[[wpflow:{name}]]"


class Insertion:
    """Adds blocks where a marker paragraph stands, then removes the marker.

    python-docx appends to the end of the body; each new block is moved before the marker.
    Building the XML directly this way is also what keeps 10 000-row tables fast.
    """

    def __init__(self, document, name: str):
        self.document = document
        self.anchor = next((p for p in document.paragraphs if p.text.strip() == marker(name)), None)

    def _place(self, block):
        if self.anchor is not None:
            self.anchor._p.addprevious(block._element if hasattr(block, "_element") else block._p)
        return block

    def heading(self, text: str, level: int):
        return self._place(self.document.add_heading(_clean(text), level))

    def paragraph(self, text: str = "", style: str | None = None):
        return self._place(self.document.add_paragraph(_clean(text), style=style))

    def table(self, header: list[str], rows: list[list[str]]):
        return self._place(_add_table(self.document, header, rows))

    def picture(self, png: io.BytesIO, width) -> None:
        self.document.add_picture(png, width=width)
        self._place(self.document.paragraphs[-1])

    def close(self) -> None:
        if self.anchor is not None:
            self.anchor._p.getparent().remove(self.anchor._p)


def report_context(summary: WPSummary, *, template_sha256: str, generated_at: datetime) -> dict[str, Any]:
    """Every variable the template uses (checked by the contract test)."""
    return {
        "project": summary.project,
        "project_title": summary.project_title,
        "programme": summary.programme,
        "wp_id": summary.wp_id,
        "wp_title": summary.wp_title,
        "milestone_id": summary.milestone_id,
        "milestone_title": summary.milestone_title,
        "start": summary.start.isoformat(),
        "end": summary.end.isoformat(),
        "due": summary.due.isoformat(),
        "as_of": summary.as_of.isoformat(),
        "status": summary.status,
        "activities": summary.activities,
        "meetings": [m.model_dump() for m in summary.meetings],
        "partners": [
            {**s.model_dump(), "kind_label": INPUT_KINDS[s.kind].label,
             "file": f"{s.file_name} (v{s.version})" if s.file_name else "—"}
            for s in summary.partners
        ],
        "missing": summary.missing,
        "toc": marker("toc"),
        "comparative": marker("comparative"),
        "narratives": marker("narratives"),
        "provenance": [i.model_dump(include={"partner", "kind", "file_name", "version", "sha256"}) for i in summary.inputs],
        "wpflow_version": wpflow.__version__,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "template_sha256": template_sha256,
    }


def insert_toc(document) -> None:
    """A real TOC field; Word fills it in on open (updateFields is set in the settings)."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    at = Insertion(document, "toc")
    at.heading("Contents", 1)
    p = at.paragraph()
    for xml in (
        f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="begin" w:dirty="true"/></w:r>',
        f'<w:r {nsdecls("w")}><w:instrText xml:space="preserve"> TOC \\o "1-3" \\h \\z \\u </w:instrText></w:r>',
        f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="separate"/></w:r>',
        f'<w:r {nsdecls("w")}><w:t>Right-click to update the table of contents.</w:t></w:r>',
        f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="end"/></w:r>',
    ):
        p._p.append(parse_xml(xml))
    at.close()


def insert_comparative(document, tables: list[ComparativeTable]) -> None:
    at = Insertion(document, "comparative")
    for table in tables:
        at.heading(table.label, 1)
        at.paragraph(f"One row per city; totals in the last row. Source: the partners' {table.label.lower()} inputs.")
        at.table(["City", *table.columns],
                   [[r["city"], *[fmt(r[c]) for c in table.columns]] for r in table.rows]
                   + [["Total", *[fmt(table.totals[c]) for c in table.columns]]])
        chart = chart_png(table)
        if chart is not None:
            from docx.shared import Cm

            at.picture(chart, width=Cm(15))
        if table.details:
            at.heading(f"{table.label}: all entries", 2)
            cols = table.detail_columns
            at.table(["city", *cols], [[d["city"], *[fmt(d.get(c)) for c in cols]] for d in table.details])
    at.close()


def _add_table(doc, header: list[str], rows: list[list[str]]):
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    t = doc.add_table(rows=1, cols=len(header))
    t.style = "Table Grid"
    for cell, text in zip(t.rows[0].cells, header):
        cell.text = text
    t.rows[0]._tr.get_or_add_trPr().append(parse_xml(f'<w:tblHeader {nsdecls("w")}/>'))  # repeat on each page
    for row in rows:
        cells = t.add_row().cells
        for cell, text in zip(cells, row):
            cell.text = _clean(text)
    return t


def _clean(text: str) -> str:
    """XML 1.0 forbids most control characters; partners' text can contain them."""
    return "".join(ch for ch in str(text) if ch in "\t\n" or ord(ch) >= 32)


def chart_png(table: ComparativeTable) -> io.BytesIO | None:
    """A bar per city of the kind's charted measure; fixed size and metadata → same bytes."""
    kind = INPUT_KINDS.get(table.kind)
    measure = (kind.chart if kind and kind.chart in table.columns else None) or (table.columns[0] if table.columns else None)
    if measure is None or not table.rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=120)
    ax.bar([r["city"] for r in table.rows], [r[measure] for r in table.rows], color="#2b6a99")
    ax.set_title(f"{table.label}: {measure} per city", fontsize=10)
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    buf.seek(0)
    return buf


def insert_narratives(document, summary: WPSummary) -> None:
    at = Insertion(document, "narratives")
    if summary.narratives:
        at.heading("Narratives and meeting reports", 1)
    for block in summary.narratives:
        at.heading(block.title, 2)
        for paragraph in block.paragraphs:
            at.paragraph(paragraph)
    at.close()


def render_report(
    summary: WPSummary,
    out_dir: Path,
    *,
    templates_dir: Path,
    template: str = "report.docx",
    generated_at: datetime | None = None,
) -> ReportRef:
    """Write `<out_dir>/<milestone>.docx`. `generated_at` defaults to the summary's as-of day,
    so the same inputs re-render the same report."""
    from docxtpl import DocxTemplate

    template_path = templates_dir / template
    template_sha = sha256_file(template_path)
    when = generated_at or datetime.combine(summary.as_of, datetime.min.time(), tzinfo=UTC)
    tpl = DocxTemplate(str(template_path))
    tpl.render(report_context(summary, template_sha256=template_sha, generated_at=when), autoescape=True)
    insert_toc(tpl.docx)
    insert_comparative(tpl.docx, summary.tables)
    insert_narratives(tpl.docx, summary)
    _set_update_fields(tpl.docx)
    tpl.docx.core_properties.created = when.replace(tzinfo=None)
    tpl.docx.core_properties.modified = when.replace(tzinfo=None)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{summary.milestone_id}.docx"
    tmp = path.with_suffix(".docx.tmp")
    buffer = io.BytesIO()
    tpl.save(buffer)
    tmp.write_bytes(stable_zip(buffer.getvalue(), when))
    tmp.replace(path)
    return ReportRef(milestone_id=summary.milestone_id, path=str(path), sha256=sha256_file(path),
                     template_sha256=template_sha, generated_at=when)


def stable_zip(data: bytes, when: datetime) -> bytes:
    """Rewrite the DOCX zip with every entry dated `when`: the same inputs give the same bytes,
    so the report hash (and the e-mail idempotency key built on it) only changes with content."""
    import zipfile

    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(item.filename))
    return out.getvalue()


def _set_update_fields(document) -> None:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    settings = document.settings.element
    if settings.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}updateFields") is None:
        settings.append(parse_xml(f'<w:updateFields {nsdecls("w")} w:val="true"/>'))
