"""Partner files as inputs: readers per format (`readers`, `documents`), cells as partners type
them (`coerce`, `headers`), which kind a file is (`detect_kind`), the safety gate (`safety`,
`gate`), validation into located issues (`validate`, `field_messages`, `problems`), annotated
copies (`annotate`), an invalid file's quarantine entry (`quarantine`) and the templates
partners fill in (`partner_templates`).

May import `wpflow.project`, `wpflow.report` (people's words for values), `wpflow.files` and
`wpflow.file_names`; never the store, mail or anything that runs a milestone.
"""
