"""SQL tables of statistics buckets and trace spans. Times are epoch milliseconds (`*_ms`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kenkogo_master.store.models import Base

# Composite keys make these tables their own index; SQLite then keeps no extra rowid b-tree.
_NO_ROWID = {"sqlite_with_rowid": False}


class StatsCounter(Base):
    """A count of one metric in one time bucket, by up to two dimensions (app, command...)."""

    __tablename__ = "stats_counters"
    __table_args__ = (_NO_ROWID,)

    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    # "minute", "hour" or "day"; every bucket is kept at all three, each with its own retention
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dim1: Mapped[str] = mapped_column(String(128), primary_key=True)
    dim2: Mapped[str] = mapped_column(String(128), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


class StatsMessages(Base):
    """Messages received in one time bucket from one sender in one chat."""

    __tablename__ = "stats_messages"
    __table_args__ = (
        Index("ix_stats_messages_sender", "period", "sender_id", "bucket_ms"),
        Index("ix_stats_messages_chat", "period", "chat_id", "bucket_ms"),
        _NO_ROWID,
    )

    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    platform: Mapped[str] = mapped_column(String(64), primary_key=True)
    chat_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class StatsSender(Base):
    """Every sender ever seen: the latest name, first and last message, and how many."""

    __tablename__ = "stats_senders"
    __table_args__ = (_NO_ROWID,)

    platform: Mapped[str] = mapped_column(String(64), primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    first_seen_ms: Mapped[int] = mapped_column(BigInteger)
    last_seen_ms: Mapped[int] = mapped_column(BigInteger)
    messages: Mapped[int] = mapped_column(BigInteger)


class TraceSpan(Base):
    """One finished span, as exported from OpenTelemetry."""

    __tablename__ = "trace_spans"
    __table_args__ = (
        Index("ix_trace_spans_trace", "trace_id", "start_ns"),
        Index("ix_trace_spans_message", "message_id"),
    )

    span_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    trace_id: Mapped[str] = mapped_column(String(32))
    parent_span_id: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    # Nanoseconds since the epoch: spans of one message are often shorter than a millisecond.
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8))  # unset, ok or error
    status_message: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(32))
    attributes: Mapped[dict[str, Any]]
    events: Mapped[list[Any]] = mapped_column(JSON, default=list)
    links: Mapped[list[Any]] = mapped_column(JSON, default=list)


class TraceSummary(Base):
    """One row per trace: its extent, span count and whether any span failed, for listing."""

    __tablename__ = "traces"
    __table_args__ = (Index("ix_traces_start", "start_ns"),)

    trace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The span that began here (no parent, or a parent in another process); "" until exported.
    root_name: Mapped[str] = mapped_column(String(100))
    message_id: Mapped[str | None] = mapped_column(String(32), index=True)
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    spans: Mapped[int] = mapped_column(Integer)
    error: Mapped[bool] = mapped_column(Boolean)
