"""Bounded expansion: `wpflow validate` on a 40 MB workbook that unpacks to 470 MB (refused by
the gate), and on large workbooks within the limits (streamed, or read whole by python-calamine).

Each case runs `wpflow validate FILE` in a subprocess of its own; its peak RSS comes from
`os.wait4` (that child's own rusage), its time from the wall clock. A tiny sample file gives
the baseline (the interpreter and wpflow's imports). The workbooks are generated into a
temporary folder: the huge one written as XML straight into the zip (about 30 s), the others by
openpyxl. The last line is JSON.

    .venv/bin/python bench/bench_expansion.py [--quick]    # --quick: a 4 MB / 47 MB workbook
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from synthetic import row_for, write_xlsx  # noqa: E402

WPFLOW = Path(sys.executable).with_name("wpflow")
SAMPLE = ROOT / "projects" / "baltmet-inno" / "inbox" / "stockholm" / "WP4-M3" / "seed_funding_stockholm.xlsx"
PROVIDERS = ["Riga City Council", "LIAA", "Business Finland", "Vinnova", "EIF", "KredEx"]
NOTES = [
    "Seed and early-stage funding for technology start-ups in the metropolitan region",
    "Co-financed by the European Regional Development Fund; applications open all year",
    "Loans for innovative SMEs, with mentoring by the city business incubator",
]
HEADER = ["name", "provider", "level", "instrument", "budget_eur", "ticket_min_eur", "ticket_max_eur", "since", "notes"]
PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Schemes" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/></Relationships>',
}


def text_cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def huge_row(n: int, rng: random.Random) -> str:
    """A seed-funding row of nine cells, about 500 bytes of XML; with its notes from a few
    sentences the sheet compresses about 11:1, as a real export does."""
    return (
        f'<row r="{n}">'
        + text_cell(f"A{n}", f"Seed scheme {n}")
        + text_cell(f"B{n}", rng.choice(PROVIDERS))
        + text_cell(f"C{n}", rng.choice(["municipal", "regional", "national", "EU"]))
        + text_cell(f"D{n}", rng.choice(["grant", "loan", "equity"]))
        + f'<c r="E{n}"><v>{rng.randint(1, 500) * 10_000}</v></c><c r="F{n}"><v>{rng.randint(5, 50) * 1000}</v></c>'
        + f'<c r="G{n}"><v>{rng.randint(50, 500) * 1000}</v></c><c r="H{n}"><v>{rng.randint(1990, 2006)}</v></c>'
        + text_cell(f"I{n}", rng.choice(NOTES))
        + "</row>"
    )


def huge_workbook(path: Path, unpacked_mb: int) -> Path:
    """An XLSX whose one sheet is `unpacked_mb` MB of plausible rows, written straight into the zip."""
    rng = random.Random(7)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for name, text in PARTS.items():
            z.writestr(name, text)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                b'<row r="1">'
                + "".join(text_cell(f"{chr(65 + i)}1", h) for i, h in enumerate(HEADER)).encode()
                + b"</row>"
            )
            written, n, goal = 0, 2, unpacked_mb << 20
            while written < goal:
                block = "".join(huge_row(i, rng) for i in range(n, n + 2000)).encode()
                sheet.write(block)
                written, n = written + len(block), n + 2000
            sheet.write(b"</sheetData></worksheet>")
    return path


def normal_workbook(path: Path, rows: int, notes: int = 0) -> Path:
    """`rows` valid seed-funding rows, as openpyxl writes them (bench/synthetic.py); with
    `notes` more columns of remarks without a header (read, and warned about, not validated)."""
    rng = random.Random(7)
    if not notes:
        write_xlsx(path, "Schemes", [row_for("seed_funding", i, rng) for i in range(rows)])
        return path
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Schemes")
    first = row_for("seed_funding", 0, rng)
    ws.append(list(first))
    for i in range(rows):
        row = row_for("seed_funding", i, rng)
        ws.append([*row.values(), *(f"remark {i}.{j}" for j in range(notes))])
    wb.save(path)
    return path


def validate(path: Path, env: dict[str, str]) -> dict:
    """`wpflow validate FILE` in a child of its own: exit code, seconds, its own peak RSS."""
    import subprocess

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([str(WPFLOW), "validate", str(path)], env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        said = (err.read().strip() or out.read().strip()).splitlines()
    return {
        "exit": proc.returncode,
        "seconds": round(seconds, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),  # the machine may be shared: CPU time says more
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "said": said[0][:160] if said else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    huge_mb = 47 if args.quick else 470
    env = {k: v for k, v in os.environ.items() if not k.startswith("WPFLOW_")}
    with tempfile.TemporaryDirectory(prefix="wpflow-bench-expansion-") as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        huge = huge_workbook(folder / "seed_funding_huge.xlsx", huge_mb)
        at_limit = normal_workbook(folder / "seed_funding_10000.xlsx", 10_000)
        wide = normal_workbook(folder / "seed_funding_10000_wide.xlsx", 10_000, notes=22)
        print(f"generated in {time.perf_counter() - began:.1f} s", flush=True)
        unpacked = sum(m.file_size for m in zipfile.ZipFile(huge).infolist())
        cases = [
            ("baseline: the 6 KB sample workbook", SAMPLE, {}),
            ("huge, default limits: refused by the gate", huge, {}),
            ("huge, WPFLOW_MAX_UNPACKED_MB=1000: refused (rows)", huge, {"WPFLOW_MAX_UNPACKED_MB": "1000"}),
            ("10 000 rows x 8: at the row limit, read whole", at_limit, {}),
            ("10 000 rows x 30: at the row limit, streamed", wide, {}),
        ]
        results = []
        for what, path, extra in cases:
            figures = validate(path, {**env, **extra})
            size = path.stat().st_size
            inside = sum(m.file_size for m in zipfile.ZipFile(path).infolist())
            results.append(
                {
                    "case": what,
                    "file_mb": round(size / (1 << 20), 2),
                    "unpacked_mb": round(inside / (1 << 20), 1),
                    **figures,
                }
            )
        base = results[0]["peak_rss_mb"]
        print(
            f"\n{'case':<50} {'file MB':>7} {'unpacked':>8} {'exit':>4} {'s':>6} {'CPU s':>6} {'RSS MB':>7} "
            f"{'(RSS-base)/unpacked':>19}"
        )
        for r in results:
            r["rss_over_baseline_per_unpacked"] = round(max(r["peak_rss_mb"] - base, 0) / max(r["unpacked_mb"], 0.1), 2)
            print(
                f"{r['case']:<50} {r['file_mb']:>7} {r['unpacked_mb']:>8} {r['exit']:>4} {r['seconds']:>6} "
                f"{r['cpu_s']:>6} {r['peak_rss_mb']:>7} {r['rss_over_baseline_per_unpacked']:>19}"
            )
            print(f"    {r['said']}")
    huge_refused = results[1]
    print(
        json.dumps(
            {
                "name": "expansion",
                "huge_file_mb": huge_refused["file_mb"],
                "huge_unpacked_mb": round(unpacked / (1 << 20)),
                "huge_exit": huge_refused["exit"],
                "huge_seconds": huge_refused["seconds"],
                "huge_peak_rss_mb": huge_refused["peak_rss_mb"],
                "baseline_rss_mb": base,
                "ratio": round(huge_refused["peak_rss_mb"] / base, 2),
                "target_met": all(r["exit"] == 2 for r in results[1:3])
                and all(r["exit"] == 0 for r in results[3:])
                and huge_refused["peak_rss_mb"] <= 1.5 * base,
                "cases": results,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
