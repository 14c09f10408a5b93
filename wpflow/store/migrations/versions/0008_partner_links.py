"""partners' page links and their access log

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Each partner has a page of its own behind a secret link (`wpflow partners links`). The store
keeps the SHA-256 of each link's token (looked up by it) and the random value it was derived
from, never the token; a rotated link is revoked, not deleted. Every view, upload and download
of a page is a row of `partner_access`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(), nullable=False),
        sa.Column("partner", sa.String(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    op.create_index("ix_partner_links_partner", "partner_links", ["project", "partner"])
    op.create_table(
        "partner_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(), nullable=False),
        sa.Column("partner", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_partner_access_partner", "partner_access", ["project", "partner"])


def downgrade() -> None:
    op.drop_index("ix_partner_access_partner", table_name="partner_access")
    op.drop_table("partner_access")
    op.drop_index("ix_partner_links_partner", table_name="partner_links")
    op.drop_table("partner_links")
