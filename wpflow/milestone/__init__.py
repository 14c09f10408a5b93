"""The stages of one milestone as plain functions: collect (`collect`: list, archive, record),
validate and notify (`stages`), merge into a WP summary (`merge`), the report
(`report_stage`, a `Document` for the issuing lifecycle); their run without Prefect
(`direct_run`), the run's record (`run_record`), progress for whoever listens (`progress`) and
the partner x milestone status (`status`).

May import `wpflow.issue`, `wpflow.workspace` and the packages below them; never
`wpflow.final`, `wpflow.schedule`, `wpflow.inbox` or `wpflow.cli`.
"""
