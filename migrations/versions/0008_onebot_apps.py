"""OneBot app endpoints the Master dials

Revision ID: 0008
Revises: 0007
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
        "onebot_apps",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("access_token", sa.String(length=1000), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("block", sa.Boolean(), nullable=False),
        sa.Column("subscribe", sa.JSON(), nullable=False),
        sa.Column("message_format", sa.String(length=16), nullable=False),
        sa.Column("accounts", sa.JSON(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onebot_apps")),
    )
    op.create_index("uq_onebot_apps_name_url", "onebot_apps", ["name", "url"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_onebot_apps_name_url", table_name="onebot_apps")
    op.drop_table("onebot_apps")
