"""`wpflow init`: a new project folder from a secretariat's spreadsheets — the partner list
(`partners`), the work plan (`workplan`), read as located cells (`sheets`), written as
project.yaml with an inbox per partner (`project_folder`).

May import `wpflow.inputs`, `wpflow.project` and `wpflow.files`; nothing that runs a milestone.
"""
