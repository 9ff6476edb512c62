"""Where each deployment runs: the local supervisor or a runner, and the labels asked for

Revision ID: 0013_placement
Revises: 0012_runners
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_placement"
down_revision = "0012_runners"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("runner_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("labels", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("labels")
        batch.drop_column("runner_id")
