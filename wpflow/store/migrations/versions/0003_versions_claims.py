"""report versions, claims and notifications in tables of their own

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

`reports` (one row per rendered DOCX) becomes `report_versions` (one row per content, v1, v2,
…); pipeline-run claims move out of `notifications` (kind "run", recipient "pipeline") into
`claims`; a notification's overloaded `report_sha` becomes a column per kind (report version
and fingerprint, the received file's hash, the ladder rung). Runs keep their report version and
a one-line outcome. Rows are carried over; rendered reports of before become "legacy" versions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(), nullable=False),
        sa.Column("milestone", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("contents", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("template_sha256", sa.String(length=64), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project", "milestone", "fingerprint", name="uq_version_content"),
        sa.UniqueConstraint("project", "milestone", "version", name="uq_version_number"),
    )
    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("project", sa.String(), nullable=False),
        sa.Column("milestone", sa.String(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.add_column(sa.Column("report_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("submission_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("rung", sa.String(length=20), nullable=True))
    with op.batch_alter_table("milestone_runs") as batch_op:
        batch_op.add_column(sa.Column("report_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.Text(), nullable=True))

    day = "DATE(r.generated_at)" if op.get_bind().dialect.name == "sqlite" else "CAST(r.generated_at AS DATE)"
    op.execute(f"""
        INSERT INTO report_versions (project, milestone, version, fingerprint, status, as_of, contents, issued_at,
                                     path, sha256, template_sha256, generated_at)
        SELECT r.project, r.milestone,
               (SELECT COUNT(*) FROM reports e WHERE e.project = r.project AND e.milestone = r.milestone
                                                AND e.id <= r.id),
               'legacy-' || SUBSTR(r.sha256, 1, 57), 'legacy', {day},
               '{{"states": [], "totals": {{}}}}', r.generated_at, r.path, r.sha256, r.template_sha256, r.generated_at
        FROM reports r
    """)
    op.execute("""
        INSERT INTO claims (key, project, milestone, purpose, claimed_at, done_at, result)
        SELECT key, project, milestone, 'run', COALESCE(claimed_at, sent_at, CURRENT_TIMESTAMP), sent_at, message_id
        FROM notifications WHERE kind = 'run' AND (sent_at IS NOT NULL OR claimed_at IS NOT NULL)
    """)
    op.execute("DELETE FROM notifications WHERE kind = 'run'")
    op.execute("UPDATE notifications SET submission_sha256 = report_sha WHERE kind = 'receipt'")
    op.execute("UPDATE notifications SET rung = report_sha WHERE kind IN ('reminder', 'notice', 'escalation')")
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_column("report_sha")
    op.drop_table("reports")


def downgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(), nullable=False),
        sa.Column("milestone", sa.String(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("template_sha256", sa.String(length=64), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project", "milestone", "sha256", name="uq_report_bytes"),
    )
    op.execute("""
        INSERT INTO reports (project, milestone, path, sha256, template_sha256, generated_at)
        SELECT project, milestone, path, sha256, COALESCE(template_sha256, ''), generated_at
        FROM report_versions WHERE path IS NOT NULL AND sha256 IS NOT NULL AND generated_at IS NOT NULL
    """)
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.add_column(sa.Column("report_sha", sa.String(length=64), nullable=True))
    op.execute("""
        UPDATE notifications SET report_sha = COALESCE(fingerprint, submission_sha256, rung)
    """)
    op.execute("""
        INSERT INTO notifications (key, project, milestone, recipient, kind, report_sha, claimed_at, sent_at,
                                   transport, message_id)
        SELECT key, project, milestone, 'pipeline', 'run', NULL, claimed_at, done_at, 'pipeline', result FROM claims
    """)
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_column("rung")
        batch_op.drop_column("submission_sha256")
        batch_op.drop_column("fingerprint")
        batch_op.drop_column("report_version")
    with op.batch_alter_table("milestone_runs") as batch_op:
        batch_op.drop_column("outcome")
        batch_op.drop_column("report_version")
    op.drop_table("claims")
    op.drop_table("report_versions")
