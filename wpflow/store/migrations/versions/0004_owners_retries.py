"""owners of claims, e-mails and runs; the watcher's receipt retries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

Claims, notifications and milestone runs record the process that holds them
(`host|boot|pid|start`, see `wpflow.store.claim_owner`): a claim whose owner is provably dead is taken over
at once instead of after a 15-minute timeout, and a run whose process died is marked crashed.
`receipt_retries` is the watcher's queue of files whose receipt failed, with their backoff.
Existing rows get no owner: they keep the clock's rule.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OWNED = ("claims", "notifications", "milestone_runs")


def upgrade() -> None:
    for table in OWNED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
    op.create_table(
        "receipt_retries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project", "path", name="uq_retry_path"),
    )


def downgrade() -> None:
    op.drop_table("receipt_retries")
    for table in reversed(OWNED):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("owner")
