"""Dask or threads: the milestone pipeline's validate stage at 500 partners (2 500 XLSX files,
250 000 rows), fanned out one `validate_partner` task run per partner through the runner
`WPFLOW_DASK_ADDRESS` picks — unset (the thread runner, the default) against `local` (a Dask
LocalCluster of 2 worker processes, one thread each: WPFLOW_DASK_WORKERS) — in one run.

One child process with its own Prefect home and ephemeral API runs a small flow of the real
tasks (collect, then the timed `validate_submissions`) on each runner over the same files and
store; an untimed pass on threads first archives the files. The LocalCluster's start is printed
apart (a process pays it once) and its workers import wpflow before the timed passes. Then the
passes back to back — threads, Dask, and the same batches through Dask without Prefect
(`Client.map` of the stage function: the floor, what Dask itself costs) — in reverse order for
a second pair (--repeat 2), so a slow spell on the shared machine hits both; the load average
is printed beside each. Each pass validates every file again (PREFECT_TASKS_REFRESH_CACHE: the
batches' cache would otherwise answer). The issue's rule: keep Dask only if it is faster, and
say by how much.

    .venv/bin/python bench/bench_dask.py [--quick] [--partners 500] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from common import child_records, emit, isolated_env, machine, scratch
from prefect import flow

ROWS = 100  # as bench_scale: 500 partners × 5 files × 100 rows


@flow(name="bench-validate")
def validate_only(project: str, milestone_id: str) -> dict[str, float]:
    """The pipeline's first two stages, the validate fan-out timed inside the flow run."""
    from tasks.collect import collect_submissions
    from tasks.validate import validate_submissions

    submissions = collect_submissions(project, milestone_id, None)
    start = time.perf_counter()
    checked = validate_submissions(project, milestone_id, submissions)
    elapsed = time.perf_counter() - start
    rows = sum(c.result.rows_read for c in checked)
    return {
        "validate_s": elapsed,
        "files": len(checked),
        "rows": rows,
        "invalid": sum(not c.result.valid for c in checked),
    }


def validate_batch(project: str, milestone_id: str, submissions: list) -> list:
    """The floor's task: the stage function on one batch's files, as `tasks.validate.validate_batch` runs it."""
    from wpflow.milestone.stages import validate_stage
    from wpflow.workspace import workspace

    ws = workspace(project)
    return validate_stage(ws, ws.milestone(milestone_id), submissions)


def warm_worker() -> None:
    """What a worker imports for its first task, imported before any timing."""
    import flows.milestone  # noqa: F401
    import tasks.validate  # noqa: F401


def plain_dask(address: str, project: str, milestone_id: str) -> dict[str, float]:
    """The same batches through Dask alone: no task runs, no context shipped with each."""
    from distributed import Client

    from tasks.validate import partner_batches
    from wpflow.milestone.stages import collect_stage
    from wpflow.workspace import workspace

    ws = workspace(project)
    batches = [files for _, files in partner_batches(collect_stage(ws, ws.milestone(milestone_id), None))]
    # by reference, so the workers import it rather than unpickle a copy of __main__'s
    from bench_dask import validate_batch

    with Client(address, set_as_default=False) as client:
        start = time.perf_counter()
        futures = client.map(validate_batch, [project] * len(batches), [milestone_id] * len(batches), batches)
        checked = [c for batch in client.gather(futures) for c in batch]
        elapsed = time.perf_counter() - start
    return {"validate_s": elapsed, "files": len(checked), "rows": sum(c.result.rows_read for c in checked)}


def child(partners: int, plan: list[str]) -> None:
    """Runs in the child: the Dask start, an untimed pass on threads, then each pass of `plan`."""
    # by reference, so the Dask workers import it rather than unpickle a copy of __main__'s
    from bench_dask import validate_only as bench_flow
    from bench_dask import warm_worker
    from distributed import Client
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from synthetic import MILESTONE, consortium

    from orchestration.ephemeral_api import tie_ephemeral_server
    from schemas.settings import Settings
    from tasks.dask_runner import local_cluster_address
    from tasks.task_runners import pipeline_task_runner

    tie_ephemeral_server()
    project = str(consortium(partners, ROWS))
    start = time.perf_counter()
    address = local_cluster_address()
    with Client(address, set_as_default=False) as client:
        client.run(warm_worker)
    print(json.dumps({"cluster_start_s": round(time.perf_counter() - start, 2)}), flush=True)
    runners = {mode: pipeline_task_runner(Settings(dask_address=value)) for mode, value in MODES.items()}
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        for mode in plan:
            load = os.getloadavg()[0]
            start = time.perf_counter()
            if mode == "plain":
                figures = plain_dask(address, project, MILESTONE)
            else:
                figures = bench_flow.with_options(task_runner=runners[mode])(project, MILESTONE)
            figures["flow_s"] = time.perf_counter() - start
            print(json.dumps({"mode": mode, "load_before": round(load, 2), **figures}), flush=True)


MODES = {"threads": None, "dask": "local"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 partners (a smoke run)")
    parser.add_argument("--partners", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=1, help="pairs of timed passes (default 1)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        partners, plan = json.loads(args.child)
        child(partners, plan)
        return

    from synthetic import consortium

    partners = args.partners or (30 if args.quick else 500)
    workers = int(os.environ.get("WPFLOW_DASK_WORKERS", "2"))
    order = ("threads", "dask", "plain")
    timed = [mode for i in range(args.repeat) for mode in (order if i % 2 == 0 else order[::-1])]
    plan = ["threads", *timed]  # the untimed first pass archives and records the files
    project = consortium(partners, ROWS)  # generated once into bench/.cache, outside any timing
    print(
        f"dask: validate stage at {partners} partners ({ROWS} rows per file, 5 files each), thread runner vs a "
        f"LocalCluster of {workers} processes × 1 thread; {machine()}",
        flush=True,
    )
    records: list[dict] = []
    cluster_start = None
    with scratch("dask") as tmp:
        (tmp / "prefect").mkdir()
        env = {
            **os.environ,
            **isolated_env(project, tmp / "outputs", WPFLOW_DASK_WORKERS=str(workers)),
            "PREFECT_HOME": str(tmp / "prefect"),
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
            "PREFECT_TASKS_REFRESH_CACHE": "true",
        }
        env.pop("PREFECT_API_URL", None)
        env.pop("WPFLOW_DASK_ADDRESS", None)
        for record in child_records(__file__, [partners, plan], env, "dask"):
            if "cluster_start_s" in record:
                cluster_start = record["cluster_start_s"]
                print(f"  LocalCluster start ({workers} processes, wpflow imported): {cluster_start:.1f} s", flush=True)
                continue
            label = "warm-up" if not records else "timed"
            records.append(record)
            print(
                f"  {label:<8} {record['mode']:<8} validate {record['validate_s']:7.2f} s   flow {record['flow_s']:7.2f} s"
                f"   load before {record['load_before']:.1f}",
                flush=True,
            )

    runs = records[1:]
    times = {mode: [r["validate_s"] for r in runs if r["mode"] == mode] for mode in ("threads", "dask", "plain")}
    threads_s, dask_s, plain_s = (statistics.median(times[mode]) for mode in ("threads", "dask", "plain"))
    speedup = threads_s / dask_s
    print(
        f"validate stage, median of {len(times['dask'])}: threads {threads_s:.2f} s, Dask {dask_s:.2f} s — "
        + (
            f"Dask {speedup:.2f}× as fast ({threads_s - dask_s:.1f} s less)"
            if speedup > 1
            else f"Dask is not faster: {1 / speedup:.2f}× the threads' time ({dask_s - threads_s:.1f} s more)"
        )
    )
    print(
        f"  the same batches on the same cluster without Prefect: {plain_s:.2f} s; Prefect's task runs on Dask "
        f"cost {(dask_s - plain_s) / partners * 1000:.0f} ms per partner more"
    )
    print(f"  load (1 min) before the timed passes: {', '.join(str(r['load_before']) for r in runs)}")
    emit(
        {
            "name": "dask_validate",
            "partners": partners,
            "files": runs[0]["files"],
            "rows": runs[0]["rows"],
            "dask_workers": workers,
            "threads_s": round(threads_s, 2),
            "dask_s": round(dask_s, 2),
            "ratio": round(dask_s / threads_s, 2),  # as every bench: the contender's time over the baseline's
            "speedup": round(speedup, 2),
            "plain_dask_s": round(plain_s, 2),
            "faster": speedup > 1,
            "cluster_start_s": cluster_start,
            "load_before": [r["load_before"] for r in runs],
            "runs": [{k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()} for r in runs],
            "warmup": {k: round(v, 2) if isinstance(v, float) else v for k, v in records[0].items()},
        }
    )


if __name__ == "__main__":
    main()
