"""The SQL store: ORM tables (`orm`), the engine and sessions (`engine`), the `Store` (`store`:
submissions and runs; `issued`: report versions, claims and e-mails; `receipt_queue`;
`summaries`; `intake_log`: the e-mail intake's messages), who holds a claim (`claim_owner`)
and schema migrations (`migrate`, `migrations/`).

The ground of wpflow with `wpflow.project` and `wpflow.report`: imports only `schemas` and
the small shared modules.
"""
