"""Deadlines: the ladder as pure functions of the date and the deliveries (`ladder`), and
chasing — sending what the ladder says and starting the pipelines that are due, for real or
rehearsed (`chase`).

May import `wpflow.milestone` and the packages below it; never `wpflow.final`,
`wpflow.inbox` or `wpflow.cli`.
"""
