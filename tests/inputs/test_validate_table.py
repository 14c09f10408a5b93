"""What partners really send that is wrong, one row each: the file, what validation must say,
and where (sheet, row, column, field) — asserted on the issue as the receipt prints it."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.inputs.cases_files import FILE_CASES
from tests.inputs.cases_rows import ROW_CASES
from tests.inputs.files import GOOD_SEED, SEED, docx, xlsx
from tests.kinds import KINDS
from wpflow.inputs.safety import OLE_MAGIC
from wpflow.inputs.validate import validate_file

CASES = ROW_CASES + FILE_CASES


@pytest.mark.parametrize(
    ("name", "builder", "severity", "where", "fragment", "kwargs"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_broken_input_is_reported_where_it_is(
    tmp_path: Path, dated_kind, name, builder, severity, where, fragment, kwargs
):
    path = tmp_path / name
    path.write_bytes(builder())
    result = validate_file(path, **kwargs, kinds=KINDS)
    located = [
        i
        for i in result.issues
        if i.severity == severity and (i.sheet, i.row, i.column, i.field) == where and fragment in str(i)
    ]
    assert located, "\n".join(f"{i.severity}: {i!s} @ {(i.sheet, i.row, i.column, i.field)}" for i in result.issues)
    assert str(located[0]).startswith(name)
    assert result.valid is (severity == "warning" and not result.errors)


def test_there_are_at_least_thirty_five_cases():
    assert len(CASES) >= 35 and len({c[0] for c in CASES}) == len(CASES)


GARBAGE = [
    b"\0" * 64,
    b"PK\x03\x04" + b"\xff" * 200,
    OLE_MAGIC + b"\x01" * 100,
    "ä;ö\n1;2".encode("utf-16"),
    b"\xff\xfe\xfd" * 50,
    b"[" * 5000,
    b"---\n" + b"a: [" * 2000,
    b"%PDF-1.4\n",
]


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt", ".json", ".md", ".docx", ""])
@pytest.mark.parametrize("kind", [None, "seed_funding", "meeting_report", "progress_narrative"])
def test_garbage_is_an_error_never_an_exception(tmp_path, suffix, kind):
    for n, content in enumerate(GARBAGE):
        path = tmp_path / f"file{n}{suffix}"
        path.write_bytes(content)
        result = validate_file(path, kind, kinds=KINDS)
        assert result.errors, (content[:20], [str(i) for i in result.issues])


def xxe(kind_builder: Callable[[], bytes], part: str, secret_file: Path) -> bytes:
    """The given file with `part` rewritten to declare an external entity pointing at a local
    file and use it in the text."""
    src = zipfile.ZipFile(io.BytesIO(kind_builder()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == part:
                text = data.decode("utf-8")
                head, _, rest = text.partition("?>")
                root = rest.lstrip().split()[0][1:]
                doctype = f'<!DOCTYPE {root} [<!ENTITY leak SYSTEM "file://{secret_file}">]>'
                text = head + "?>" + doctype + rest.replace("We did a lot.", "&leak;").replace("Riga Seed", "&leak;")
                data = text.encode("utf-8")
            dst.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "builder", "part"),
    [
        ("progress_narrative.docx", docx(("Heading 1", "Progress"), ("Normal", "We did a lot.")), "word/document.xml"),
        ("seed_funding.xlsx", xlsx("Schemes", SEED, GOOD_SEED, extra_sheets=None), "xl/sharedStrings.xml"),
    ],
    ids=["docx", "xlsx"],
)
def test_external_entities_are_never_resolved(tmp_path, name, builder, part):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    path = tmp_path / name
    try:
        path.write_bytes(xxe(builder, part, secret))
    except KeyError:  # pragma: no cover - openpyxl wrote inline strings
        pytest.skip(f"{part} not in the generated file")
    result = validate_file(path, kinds=KINDS)
    assert "TOP-SECRET-CONTENT" not in result.model_dump_json()
