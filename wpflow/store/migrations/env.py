"""Alembic environment: migrations run on the connection `wpflow.db` hands over (never a URL
read from an ini file), so the CLI, the store and the tests migrate exactly the database in use."""

from __future__ import annotations

from alembic import context

from wpflow.store.orm import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
