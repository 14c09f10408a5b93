"""idempotency keys within their project

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

Several projects share one store. An e-mail's or a run's key used to be computed without the
project, so a person in two projects got one project's T-14 reminder for a milestone and was
taken to have had the other's (the key was "already sent"), and the two projects' e-mails
could share a Message-ID. Keys are now hashed with the project's name (`wpflow.mail.idempotency.in_project`);
the keys stored before move into their project's namespace the same way, so nothing already
sent goes out again. The formula is copied here: a migration must not change with the code.
A hash cannot be undone: a downgrade refuses while there are keys (an older wpflow would send
every past e-mail once more); an empty store goes back.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def in_project(project: str, key: str) -> str:
    return hashlib.sha256(f"{project}\x1f{key}".encode()).hexdigest()


TABLES = ("notifications", "claims")


def keyed(name: str) -> sa.TableClause:
    return sa.table(name, sa.column("id", sa.Integer), sa.column("project", sa.String), sa.column("key", sa.String))


def upgrade() -> None:
    connection = op.get_bind()
    for name in TABLES:
        table = keyed(name)
        rows = connection.execute(sa.select(table.c.id, table.c.project, table.c.key)).all()
        for row in rows:
            connection.execute(table.update().where(table.c.id == row.id).values(key=in_project(row.project, row.key)))


def downgrade() -> None:
    connection = op.get_bind()
    for name in TABLES:
        if connection.execute(sa.select(sa.func.count()).select_from(keyed(name))).scalar():
            raise RuntimeError(
                f"0006 hashed the keys in {name} with their project and a hash cannot be undone: "
                "an older wpflow would send every past e-mail again; not downgrading a store that has them"
            )
