"""wpflow: a cooperation project's milestones as Prefect pipelines.

This package holds the plain stage functions (no Prefect import), so the CLI and tests can
call them directly; `tasks/` and `flows/` wrap them for orchestration.
"""

__version__ = "0.1.0"
