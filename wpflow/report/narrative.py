"""The coordinator's words in a report: one Markdown file per report in the project folder.

Sentences the data can say are computed (`wpflow.report.key_figures`); what only a person can
say — the summary's judgement, the conclusions, the next steps — is written by the coordinator
in `<project>/narratives/<report-id>.md`:

    ## Summary
    A paragraph, or a list:
    - one point
    ## Conclusions
    ## Next steps

HTML comments (`<!-- … -->`) are left out, so the skeleton's guidance and its key figures
can stay in the file without being printed; a section with nothing else in it is still
awaited, and the report says DRAFT until none is. The file's text enters the report's
fingerprint: an edit is a new version.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from schemas.deliverable import NARRATIVE_SECTIONS, CoordinatorNarrative, TextBlock
from schemas.project import Project

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SECTION = re.compile(r"^#{1,2}\s+(.+?)\s*#*\s*$")
_SUBHEADING = re.compile(r"^#{3,6}\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
_MARKS = re.compile(r"(\*\*|__|`)")
_EMPHASIS = re.compile(r"(?<![\w*])[*_]([^*_]+)[*_](?![\w*])")

# a heading as people write it → the section it opens
_ALIASES = {
    "summary": "summary",
    "executive summary": "summary",
    "conclusions": "conclusions",
    "conclusion": "conclusions",
    "next steps": "next_steps",
    "next step": "next_steps",
}


def narrative_path(folder: Path, project: Project, report_id: str) -> Path:
    """`<project folder>/narratives/<report-id>.md` (the folder per `deliverable.narratives`)."""
    return folder / project.deliverable.narratives / f"{report_id}.md"


def load_narrative(folder: Path, project: Project, report_id: str) -> CoordinatorNarrative | None:
    """The coordinator's narrative of a report, or None while there is no file."""
    path = narrative_path(folder, project, report_id)
    if not path.is_file():
        return None
    return parse_narrative(path.read_text(encoding="utf-8"), report_id)


def inline(text: str) -> str:
    """Markdown's inline marks dropped (bold, emphasis, code); a link as 'text (address)'."""
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    text = _MARKS.sub("", text)
    return _EMPHASIS.sub(r"\1", text).strip()


def parse_narrative(text: str, report_id: str) -> CoordinatorNarrative:
    """The sections Summary, Conclusions and Next steps as blocks: `###` headings, list items,
    paragraphs (lines joined until a blank line). Text before the first section and sections
    of other names are not the coordinator's report text and are left out."""
    sections: dict[str, list[TextBlock]] = {key: [] for key in NARRATIVE_SECTIONS}
    current: list[TextBlock] | None = None
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph and current is not None:
            current.append(TextBlock(kind="paragraph", text=inline(" ".join(paragraph))))
        paragraph.clear()

    for line in _COMMENT.sub("", text).splitlines():
        if (sub := _SUBHEADING.match(line)) is not None:
            flush()
            if current is not None:
                current.append(TextBlock(kind="heading", text=inline(sub.group(1))))
        elif (head := _SECTION.match(line)) is not None:
            flush()
            key = _ALIASES.get(inline(head.group(1)).lower().rstrip(":"))
            current = sections[key] if key else None
        elif not line.strip():
            flush()
        elif (item := _BULLET.match(line)) is not None or (item := _NUMBERED.match(line)) is not None:
            flush()
            if current is not None:
                kind = "bullet" if _BULLET.match(line) else "numbered"
                current.append(TextBlock(kind=kind, text=inline(item.group(1))))
        elif current is not None and current and current[-1].kind in ("bullet", "numbered") and line.startswith(" "):
            # a list item continued on an indented line
            last = current.pop()
            current.append(TextBlock(kind=last.kind, text=f"{last.text} {inline(line)}"))
        else:
            paragraph.append(line.strip())
    flush()
    return CoordinatorNarrative(
        report_id=report_id,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        **sections,
    )


def skeleton(report_id: str, title: str, key_figures: list[str], *, as_of: str = "") -> str:
    """A narrative file to start from: the three sections, each with a word on what belongs
    there, and the key figures inside a comment — printed only once the coordinator takes
    them out of it, so an untouched skeleton still leaves the report a DRAFT."""
    figures = "\n".join(f"- {f}" for f in key_figures) or "- (no figures yet: no valid input has arrived)"
    when = f" as of {as_of}" if as_of else ""
    return f"""# {report_id}: {title}

<!--
The coordinator's words for the report {report_id}. Write under each heading; lines inside
these comment marks are not printed. A section left empty keeps the report a DRAFT and is
named in it as awaited. Saving a change here makes the next version of the report.

Key figures{when}, computed from the partners' data (the report prints them itself):
{figures}
-->

## Summary

<!-- Two or three sentences: what the milestone found and what it means for the project. -->

## Conclusions

<!-- What the comparison shows across the cities; what the partners should take from it. -->

## Next steps

<!-- What happens next, who does it, by when: as a list, one step per line ("- …"). -->
"""


def write_skeleton(path: Path, text: str, *, force: bool = False) -> Path:
    """Write a skeleton; an existing narrative is the coordinator's work and is kept unless `force`."""
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; --force replaces it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
