"""Remote runners and their one-time enrolment tokens

Revision ID: 0012_runners
Revises: 0011_deployments
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_runners"
down_revision = "0011_deployments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runner_enrolments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("used_ms", sa.BigInteger(), nullable=True),
        sa.Column("runner_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runner_enrolments")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_runner_enrolments_token_hash")),
    )
    op.create_table(
        "runners",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("credential_hash", sa.String(length=64), nullable=False),
        sa.Column("enrolment_id", sa.String(length=32), nullable=True),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("os", sa.String(length=200), nullable=False),
        sa.Column("arch", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("desired", sa.JSON(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runners")),
        sa.UniqueConstraint("credential_hash", name=op.f("uq_runners_credential_hash")),
    )


def downgrade() -> None:
    op.drop_table("runners")
    op.drop_table("runner_enrolments")
