"""the e-mail intake's messages and attachments

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

The e-mail intake takes each message in once by its Message-ID (`intake_messages`: where it was
matched and where it ended, processed or held for the coordinator) and records each attachment
before and after it is renamed into a partner's watched folder (`intake_files`), so a restart
finishes a message half taken in without losing or doubling a file.

Written at the same time as 0008 (the partners' page links) and following it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_key", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("project", sa.String(), nullable=True),
        sa.Column("partner", sa.String(), nullable=True),
        sa.Column("milestone", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_key"),
    )
    op.create_index(op.f("ix_intake_messages_sender"), "intake_messages", ["sender"], unique=False)
    op.create_table(
        "intake_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_key", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_key", "position", name="uq_intake_file"),
    )


def downgrade() -> None:
    op.drop_table("intake_files")
    op.drop_index(op.f("ix_intake_messages_sender"), table_name="intake_messages")
    op.drop_table("intake_messages")
