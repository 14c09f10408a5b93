"""The stages of one milestone as plain functions (collect, validate, merge, report, notify),
their direct run without Prefect, the merge into a WP summary and the partner x milestone status."""
