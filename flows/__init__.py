"""Prefect flows: the milestone pipeline, the deadline ladder, the inbox watcher and the final
reports — flows only (their tasks are in `tasks/`), and how a milestone run is started
(`flows.starts`)."""
