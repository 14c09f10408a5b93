"""Rendering a document: the DOCX from its docxtpl template, tables and fields as WordprocessingML,
column widths, charts, the PDF beside it, people's words for values, and the reports' HTTP server."""
