"""milestone summaries kept with their report versions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28

The WP final reports and the joint final report are built from what the milestone reports
said, never by re-reading partners' files: each report version keeps the merged summary it was
rendered from (`milestone_summaries`, detail rows left out). Versions issued before have none;
the final reports then show their stored totals.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "milestone_summaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(), nullable=False),
        sa.Column("milestone", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project", "milestone", "version", name="uq_summary_version"),
    )


def downgrade() -> None:
    op.drop_table("milestone_summaries")
