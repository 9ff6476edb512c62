"""texts and overrides, offered locales and chat locales

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_locales",
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "chat_id", name=op.f("pk_chat_locales")),
    )
    op.create_table(
        "i18n_locales",
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("added_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("locale", name=op.f("pk_i18n_locales")),
    )
    op.create_table(
        "i18n_texts",
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("overridden", sa.Boolean(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("locale", "key", name=op.f("pk_i18n_texts")),
    )


def downgrade() -> None:
    op.drop_table("i18n_texts")
    op.drop_table("i18n_locales")
    op.drop_table("chat_locales")
