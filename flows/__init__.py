"""Prefect flows: the milestone pipeline, the deadline ladder and the inbox watcher."""
