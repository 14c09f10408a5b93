"""`wpflow init`: a new project folder from a secretariat's spreadsheets — the partner list
(`partners`), the work plan (`workplan`) and its Kinds sheet (`kinds_sheet`), read as located
cells (`sheets`) under the headers of one table per sheet (`columns`), dates as people type them
(`dates`), written as project.yaml (and kinds.yaml) with an inbox per partner (`project_folder`).

May import `wpflow.inputs`, `wpflow.project` and `wpflow.files`; nothing that runs a milestone.
"""
