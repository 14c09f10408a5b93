"""a report's earlier content may come back as a new version

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

A report version was unique by its content fingerprint, so when a partner replaced a file and
then went back to the first one (content A, then B, then A again), the run found v1 for A and
issued nothing: `reports/<id>.docx` still showed B and nobody was told. A content is now a new
version when it differs from the *newest* version; an earlier content coming back is the next
number (v3, with what changed since v2). The unique constraint on (project, milestone,
fingerprint) becomes an index; the version number stays unique. A downgrade refuses while a
content appears in two versions (an older wpflow could not read that store).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = ["project", "milestone", "fingerprint"]


def upgrade() -> None:
    with op.batch_alter_table("report_versions") as batch_op:
        batch_op.drop_constraint("uq_version_content", type_="unique")
        batch_op.create_index("ix_version_content", COLUMNS)


def downgrade() -> None:
    versions = sa.table("report_versions", *(sa.column(c, sa.String) for c in COLUMNS))
    repeated = (
        op.get_bind()
        .execute(
            sa.select(versions.c.project, versions.c.milestone)
            .group_by(*versions.c)
            .having(sa.func.count() > 1)
            .limit(1)
        )
        .first()
    )
    if repeated is not None:
        raise RuntimeError(
            f"{repeated.project} {repeated.milestone} has a content issued as two versions (it came back); "
            "before 0007 a content could be one version only, so this store cannot go back"
        )
    with op.batch_alter_table("report_versions") as batch_op:
        batch_op.drop_index("ix_version_content")
        batch_op.create_unique_constraint("uq_version_content", COLUMNS)
