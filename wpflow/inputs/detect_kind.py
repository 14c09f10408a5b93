"""Which input kind a partner file is, when nobody said: the template stamp, the file name,
then the column headers (`kind_of`); the name alone for a file the gate refused (`detect_kind`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from schemas.inputs import InputKind
from wpflow.inputs.headers import normalise_header, resolve_header
from wpflow.inputs.readers import read_table
from wpflow.inputs.workbook_metadata import read_metadata


def detect_kind(path: Path, kinds: Mapping[str, InputKind], expected: Sequence[str] = ()) -> str | None:
    """Kind from the file name (kind id or its label), restricted to the expected kinds."""
    candidates = [k for k in expected if k in kinds] if expected else list(kinds)
    name = normalise_header(Path(path).stem)
    for kind_id in sorted(candidates, key=len, reverse=True):
        label = normalise_header(kinds[kind_id].label)
        if kind_id in name or label in name:
            return kind_id
    return candidates[0] if len(candidates) == 1 else None


def kind_of(path: Path, name: str, kinds: Mapping[str, InputKind], expected: Sequence[str] = ()) -> str | None:
    """The kind a file is, in order of trust: the hidden `_wpflow` sheet a generated template
    carries (even a kind the milestone does not expect: the caller says so), the file name,
    then the column headers."""
    suffix = Path(name).suffix.lower()
    claimed = read_metadata(path, suffix).get("kind")
    if claimed in kinds:
        return claimed
    return detect_kind(Path(name), kinds, expected) or kind_from_headers(path, suffix, kinds, expected)


def kind_from_headers(
    path: Path, suffix: str, kinds: Mapping[str, InputKind], expected: Sequence[str] = ()
) -> str | None:
    """The row kind whose required columns all appear in the header row, else the one sharing
    most columns with it (at least two, and no tie); None for documents or unreadable files."""
    try:
        header = read_table(path, suffix)[1]
    except Exception:
        return None
    scores = []
    for kind_id in expected or kinds:
        spec = kinds.get(kind_id)
        if spec is None or spec.shape != "rows":
            continue
        fields = spec.model.model_fields
        found = set(resolve_header(header, spec.model)) & set(fields)
        required = {n for n, f in fields.items() if f.is_required()}
        scores.append(((required <= found, len(found)), kind_id))
    scores.sort(reverse=True)
    if not scores or scores[0][0][1] < 2 or (len(scores) > 1 and scores[0][0] == scores[1][0]):
        return None
    return scores[0][1]
