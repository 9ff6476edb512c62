"""App package revisions and their installs

Revision ID: 0010_packages
Revises: 0009_events
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_packages"
down_revision = "0009_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "package_revisions",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_ms", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_package_revisions")),
    )
    op.create_index(
        "ix_package_revisions_package", "package_revisions", ["package_id", "uploaded_ms"]
    )
    op.create_table(
        "package_installs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("ended_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_package_installs")),
    )


def downgrade() -> None:
    op.drop_table("package_installs")
    op.drop_index("ix_package_revisions_package", table_name="package_revisions")
    op.drop_table("package_revisions")
