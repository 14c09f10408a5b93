"""Prefect tasks: one module per stage, each a thin wrapper around `wpflow.milestone.stages`.

Retries and timeouts live on the decorators (I/O can fail transiently); the logic lives in
plain functions that the CLI and benchmarks call directly.
"""
