"""E-mail: every message wpflow sends, and sending each at most once.

Owns composing messages from `templates/email/` (`compose`; a report's e-mail and the
"nothing arrived" notice in `reports`, a receipt in `receipts`), what each reader's copy of a
report says beyond the document (`audience`), people's words for who, how to deliver, by when
and whom a reply reaches (`words`), the transports — an outbox folder or SMTP — with their
error classes (`transports`), the idempotency keys (`idempotency`) and the one send-once loop
(`send_once`) that receipts, ladder reminders and notices, reports and the "nothing arrived"
notice all go through.

May import `schemas`, `wpflow.files`, `wpflow.file_names`, `wpflow.inputs.problems` (a
receipt's problem list), `wpflow.report.plain_words` (dates and inputs in words) and, for its
claims, `wpflow.store`; never the packages that send through it (`wpflow.milestone`,
`wpflow.final`, `wpflow.schedule`, `wpflow.inbox`, `wpflow.issue`).
"""
