"""The reports above the milestones: a work package's story and the project's, read from the
store (`wp_story`, `project_story`), their tables, charts, DOCX (`render`) and e-mail (`mail`),
issued through the one lifecycle (`issue`) and followed up day by day (`stages`).

May import `wpflow.milestone`, `wpflow.issue` and the packages below them; never
`wpflow.schedule`, `wpflow.inbox` or `wpflow.cli`.
"""
