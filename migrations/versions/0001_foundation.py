"""apps, instances, transitions and api tokens

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_used_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "apps",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("first_seen_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_ms", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_apps")),
    )
    op.create_table(
        "app_instances",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("remote", sa.String(length=128), nullable=False),
        sa.Column("transport", sa.String(length=16), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=True),
        sa.Column("subscription", sa.JSON(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("block", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("connected_ms", sa.BigInteger(), nullable=False),
        sa.Column("registered_ms", sa.BigInteger(), nullable=True),
        sa.Column("disconnected_ms", sa.BigInteger(), nullable=True),
        sa.Column("disconnect_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["name"], ["apps.name"], name=op.f("fk_app_instances_name_apps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_instances")),
    )
    with op.batch_alter_table("app_instances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_app_instances_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_app_instances_state"), ["state"], unique=False)

    op.create_table(
        "state_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["app_instances.id"],
            name=op.f("fk_state_transitions_instance_id_app_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_state_transitions")),
    )
    with op.batch_alter_table("state_transitions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_state_transitions_instance_at", ["instance_id", "at_ms"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("state_transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_state_transitions_instance_at")

    op.drop_table("state_transitions")
    with op.batch_alter_table("app_instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_instances_state"))
        batch_op.drop_index(batch_op.f("ix_app_instances_name"))

    op.drop_table("app_instances")
    op.drop_table("apps")
    op.drop_table("api_tokens")
