"""Rendering a document: the DOCX from its docxtpl template (`render`), tables and fields as
WordprocessingML (`docx_tables`, `docx_fields`), column widths from the cells (`table_layout`),
charts, the PDF beside it (`pdf`), people's words for values (`plain_words`) and the reports'
HTTP server (`http_server`).

The ground of wpflow with `wpflow.project` and `wpflow.store`: imports only `schemas` and the
small shared modules; what a document says is decided above it.
"""
