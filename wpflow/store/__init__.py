"""The SQL store: ORM tables, the engine, the `Store` (submissions, issued documents and e-mails,
the receipt queue, milestone summaries), claims and their owners, schema migrations."""
