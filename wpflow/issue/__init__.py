"""Issued documents: what a milestone report, a WP report and the joint final report share.

Owns the content rules (`content`: fingerprints, the release rule, what changed between
versions), the heading every document opens with (`header`) and the one lifecycle of an issued
document (`lifecycle`: render → fingerprint → version → store → send once per recipient), which
each kind of document drives through its own `Document` description.

May import `schemas`, `wpflow.files`, `wpflow.report.plain_words`, `wpflow.mail`,
`wpflow.store` and `wpflow.workspace`; never `wpflow.milestone` or `wpflow.final`, which
describe their documents to it.
"""
