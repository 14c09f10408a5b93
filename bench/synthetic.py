"""A synthetic consortium for benchmarks: N partners × 5 row-kind XLSX files × R rows.

Generated once per (partners, rows) into `bench/.cache/` (gitignored) and reused, so the
benchmarks time wpflow, not the generator. The project is derived from the bundled BaltMet
Inno definition (same schemas), with one milestone requiring five row kinds from everyone.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache"
KINDS = [
    "education_institutions",
    "innovation_infrastructure",
    "seed_funding",
    "policy_recommendations",
    "pre_phase_clusters",
]
MILESTONE = "WP9-M1"


def row_for(kind: str, i: int, rng: random.Random) -> dict:
    """A valid row of each kind (values vary so nothing is trivially compressible)."""
    if kind == "education_institutions":
        return {
            "name": f"Institute {i}",
            "type": rng.choice(["university", "polytechnic", "research institute"]),
            "students": rng.randint(100, 40000),
            "researchers": rng.randint(5, 3000),
            "entrepreneurship_programme": rng.choice(["yes", "no"]),
            "programme_name": None,
        }
    if kind == "innovation_infrastructure":
        return {
            "name": f"Incubator {i}",
            "type": rng.choice(["incubator", "science park", "business lab"]),
            "operator": "City",
            "founded": rng.randint(1980, 2006),
            "companies": rng.randint(1, 400),
            "floor_area_m2": round(rng.uniform(200, 90000), 1),
            "focus": "ICT",
        }
    if kind == "seed_funding":
        low = rng.randint(5, 50) * 1000
        return {
            "name": f"Seed scheme {i}",
            "provider": "Agency",
            "level": rng.choice(["municipal", "national", "EU"]),
            "instrument": rng.choice(["grant", "loan", "equity"]),
            "budget_eur": rng.randint(1, 500) * 10000,
            "ticket_min_eur": low,
            "ticket_max_eur": low * 10,
            "since": rng.randint(1990, 2006),
        }
    if kind == "policy_recommendations":
        return {
            "thematic_group": rng.choice(["entrepreneurship and education", "innovation infrastructure"]),
            "recommendation": f"Recommendation number {i} on local support structures.",
            "level": rng.choice(["local", "regional", "national"]),
            "priority": rng.choice(["high", "low"]),
        }
    return {
        "name": f"Cluster {i}",
        "sector": "Life sciences",
        "maturity": rng.choice(["emerging", "mature"]),
        "companies": rng.randint(5, 900),
        "employees": rng.randint(50, 20000),
        "research_institutions": 3,
        "proposed_for_transnational_analysis": "yes" if i < 3 else "no",
    }


def project_yaml(partners: int) -> dict:
    base = yaml.safe_load((ROOT / "projects" / "baltmet-inno" / "project.yaml").read_text(encoding="utf-8"))
    participants = [
        {
            "id": f"p{i:03d}",
            "city": f"City {i:03d}",
            "country": "Testland",
            "organisation": f"Org {i}",
            "role": "lead" if i == 0 else "partner",
            "local_coordinator": True,
            "emails": [f"p{i:03d}@bench.example.org"],
        }
        for i in range(partners)
    ]
    return {
        "name": "Bench",
        "title": f"Synthetic consortium of {partners} partners",
        "programme": base["programme"],
        "start": base["start"],
        "end": base["end"],
        "lead": "p000",
        "secretariat_email": "secretariat@bench.example.org",
        "participants": participants,
        "work_packages": [
            {
                "id": "WP9",
                "title": "Benchmark",
                "coordinator": "p000",
                "milestones": [
                    {
                        "id": MILESTONE,
                        "title": "Everything at once",
                        "start": "2005-01-02",
                        "end": "2005-06-30",
                        "due": "2005-06-30",
                        "inputs": [{"kind": k} for k in KINDS],
                    }
                ],
            }
        ],
    }


def write_xlsx(path: Path, sheet: str, rows: list[dict]) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    header = list(rows[0])
    ws.append(header)
    for r in rows:
        ws.append([r[h] for h in header])
    wb.save(path)


def consortium(partners: int, rows: int = 100, *, fresh: bool = False) -> Path:
    """The folder of a synthetic project (project.yaml + inbox/), generated on first use."""
    from schemas.settings import ROOT
    from wpflow.project.load import load_project

    INPUT_KINDS = load_project(ROOT / "projects" / "baltmet-inno").input_kinds  # noqa: N806

    folder = CACHE / f"consortium-{partners}x{rows}"
    done = folder / ".complete"
    if done.exists() and not fresh:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "inbox").mkdir(parents=True)
    (folder / "project.yaml").write_text(yaml.safe_dump(project_yaml(partners), sort_keys=False), encoding="utf-8")
    rng = random.Random(partners * 1000 + rows)
    for i in range(partners):
        target = folder / "inbox" / f"p{i:03d}" / MILESTONE
        target.mkdir(parents=True)
        for kind in KINDS:
            write_xlsx(target / f"{kind}.xlsx", INPUT_KINDS[kind].sheet, [row_for(kind, n, rng) for n in range(rows)])
    done.touch()
    return folder


if __name__ == "__main__":
    import sys

    print(consortium(int(sys.argv[1]) if len(sys.argv) > 1 else 14))
