"""The bundled BaltMet Inno project's input kinds, for tests that validate, detect or template
files without a run (`validate_file(..., kinds=KINDS)`). The same dict as the project the
workspace loads (`load_project_once`), so a kind a fixture adds (`dated_kind`) is seen by both."""

from __future__ import annotations

from schemas.settings import ROOT
from wpflow.project.load import load_project_once

KINDS = load_project_once(ROOT / "projects" / "baltmet-inno").input_kinds
ROW_KINDS = sorted(k for k, v in KINDS.items() if v.shape == "rows")
DOC_KINDS = sorted(k for k, v in KINDS.items() if v.shape == "document")
