"""Loading a project definition (`load`), checking it against itself — contradictions, gaps,
assumptions (`check`) — and the installation's folder of projects (`installation`).

The ground of wpflow with `wpflow.report` and `wpflow.store`: imports only `schemas` and the
small shared modules (`wpflow.files`, `wpflow.file_names`).
"""
