"""Deployments the local supervisor runs, and their state changes

Revision ID: 0011_deployments
Revises: 0010_packages
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_deployments"
down_revision = "0010_packages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("app_id", sa.String(length=100), nullable=False),
        sa.Column("revision", sa.String(length=128), nullable=False),
        sa.Column("env", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("pgid", sa.Integer(), nullable=True),
        sa.Column("proc_started", sa.Float(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
    )
    op.create_index("uq_deployments_name", "deployments", ["name"], unique=True)
    op.create_table(
        "deployment_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("deployment_id", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_transitions")),
    )
    op.create_index(
        "ix_deployment_transitions_at",
        "deployment_transitions",
        ["deployment_id", "at_ms"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_deployment_transitions_at", table_name="deployment_transitions")
    op.drop_table("deployment_transitions")
    op.drop_index("uq_deployments_name", table_name="deployments")
    op.drop_table("deployments")
