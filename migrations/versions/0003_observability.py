"""statistics buckets, senders, trace spans and trace summaries

Revision ID: 0003
Revises: 0002
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
        "stats_counters",
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("bucket_ms", sa.BigInteger(), nullable=False),
        sa.Column("dim1", sa.String(length=128), nullable=False),
        sa.Column("dim2", sa.String(length=128), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "metric", "period", "bucket_ms", "dim1", "dim2", name=op.f("pk_stats_counters")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "stats_messages",
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("bucket_ms", sa.BigInteger(), nullable=False),
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("chat_type", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "period",
            "bucket_ms",
            "platform",
            "chat_type",
            "chat_id",
            "sender_id",
            name=op.f("pk_stats_messages"),
        ),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("stats_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stats_messages_chat", ["period", "chat_id", "bucket_ms"], unique=False
        )
        batch_op.create_index(
            "ix_stats_messages_sender", ["period", "sender_id", "bucket_ms"], unique=False
        )

    op.create_table(
        "stats_senders",
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("first_seen_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_ms", sa.BigInteger(), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "sender_id", name=op.f("pk_stats_senders")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "trace_spans",
        sa.Column("span_id", sa.String(length=16), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("parent_span_id", sa.String(length=16), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_ns", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=32), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("span_id", name=op.f("pk_trace_spans")),
    )
    with op.batch_alter_table("trace_spans", schema=None) as batch_op:
        batch_op.create_index("ix_trace_spans_message", ["message_id"], unique=False)
        batch_op.create_index("ix_trace_spans_trace", ["trace_id", "start_ns"], unique=False)

    op.create_table(
        "traces",
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("root_name", sa.String(length=100), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=True),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_ns", sa.BigInteger(), nullable=False),
        sa.Column("spans", sa.Integer(), nullable=False),
        sa.Column("error", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("trace_id", name=op.f("pk_traces")),
    )
    with op.batch_alter_table("traces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_traces_message_id"), ["message_id"], unique=False)
        batch_op.create_index("ix_traces_start", ["start_ns"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("traces", schema=None) as batch_op:
        batch_op.drop_index("ix_traces_start")
        batch_op.drop_index(batch_op.f("ix_traces_message_id"))

    op.drop_table("traces")
    with op.batch_alter_table("trace_spans", schema=None) as batch_op:
        batch_op.drop_index("ix_trace_spans_trace")
        batch_op.drop_index("ix_trace_spans_message")

    op.drop_table("trace_spans")
    op.drop_table("stats_senders")
    with op.batch_alter_table("stats_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_stats_messages_sender")
        batch_op.drop_index("ix_stats_messages_chat")

    op.drop_table("stats_messages")
    op.drop_table("stats_counters")
