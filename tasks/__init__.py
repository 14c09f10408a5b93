"""Prefect tasks: one module per stage, each a thin wrapper around wpflow's plain stages
(`wpflow.milestone.stages`, `wpflow.schedule.chase`, `wpflow.final.stages`, the inbox's).

Retries and timeouts live on the decorators (I/O can fail transiently); the logic lives in
plain functions that the CLI and benchmarks call directly. What the tasks a flow submits run
on — threads, or a Dask cluster — is here too (`tasks.task_runners`, `tasks.dask_runner`),
chosen as each run starts.
"""
