"""SQL tables, as SQLAlchemy 2 typed models. Times are epoch milliseconds (`*_ms`)."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so that migrations can address them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


class AppName(Base):
    """One row per app name: what it says about itself and whether an operator holds it."""

    __tablename__ = "apps"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200), default="")
    first_seen_ms: Mapped[int] = mapped_column(BigInteger)
    last_seen_ms: Mapped[int] = mapped_column(BigInteger)
    held: Mapped[bool] = mapped_column(Boolean, default=False)


class AppInstance(Base):
    """One row per app connection: its registration and where it stands."""

    __tablename__ = "app_instances"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(ForeignKey("apps.name"), index=True)
    version: Mapped[str | None] = mapped_column(String(64))
    remote: Mapped[str] = mapped_column(String(128))
    transport: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str | None] = mapped_column(String(35))
    subscription: Mapped[dict[str, Any] | None]
    priority: Mapped[int | None] = mapped_column(Integer)
    block: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), index=True)
    connected_ms: Mapped[int] = mapped_column(BigInteger)
    registered_ms: Mapped[int | None] = mapped_column(BigInteger)
    disconnected_ms: Mapped[int | None] = mapped_column(BigInteger)
    disconnect_reason: Mapped[str | None] = mapped_column(String(200))


class StateTransition(Base):
    """Every change of an instance's state, in order."""

    __tablename__ = "state_transitions"
    __table_args__ = (Index("ix_state_transitions_instance_at", "instance_id", "at_ms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("app_instances.id", ondelete="CASCADE"))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200))
    at_ms: Mapped[int] = mapped_column(BigInteger)


class ApiToken(Base):
    """A bearer token for /api/v1, stored as a SHA-256 digest."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    last_used_ms: Mapped[int | None] = mapped_column(BigInteger)


class DriverRow(Base):
    """One row per driver identity (platform, self_id): its stable id and when it was seen."""

    __tablename__ = "drivers"
    __table_args__ = (Index("uq_drivers_platform_self_id", "platform", "self_id", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    platform: Mapped[str] = mapped_column(String(64))
    self_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200), default="")
    transport: Mapped[str] = mapped_column(String(16))
    remote: Mapped[str] = mapped_column(String(128), default="")
    locale: Mapped[str | None] = mapped_column(String(35))
    first_seen_ms: Mapped[int] = mapped_column(BigInteger)
    last_seen_ms: Mapped[int] = mapped_column(BigInteger)


class DriverToken(Base):
    """A token accepted from drivers on /driver, stored as a SHA-256 digest."""

    __tablename__ = "driver_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    last_used_ms: Mapped[int | None] = mapped_column(BigInteger)


class MessageRow(Base):
    """One inbound chat message, notice or request, stored once per driver and platform id."""

    __tablename__ = "messages"
    __table_args__ = (
        Index(
            "uq_messages_driver_platform_message",
            "driver_id",
            "platform_message_id",
            unique=True,
        ),
        Index("ix_messages_received", "received_ms"),
        Index("ix_messages_chat", "chat_id", "received_ms"),
        Index("ix_messages_sender", "sender_id", "received_ms"),
        Index("ix_messages_status", "status", "received_ms"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    driver_id: Mapped[str] = mapped_column(ForeignKey("drivers.id"))
    platform: Mapped[str] = mapped_column(String(64))
    platform_message_id: Mapped[str] = mapped_column(String(128))
    chat_type: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    chat_name: Mapped[str | None] = mapped_column(String(200))
    sender_id: Mapped[str] = mapped_column(String(128))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    segments: Mapped[list[Any]] = mapped_column(JSON)
    locale: Mapped[str | None] = mapped_column(String(35))
    traceparent: Mapped[str] = mapped_column(String(128))
    time_ms: Mapped[int] = mapped_column(BigInteger)
    received_ms: Mapped[int] = mapped_column(BigInteger)
    # pending → unrouted | handled | failed; interrupted when a restart cut scheduling short
    status: Mapped[str] = mapped_column(String(16))
    # "message" for chat messages; notices and requests share the table (and so scheduling,
    # deliveries, statistics, retention) as e.g. "notice.group_increase" / "request.friend".
    kind: Mapped[str] = mapped_column(String(64), default="message", server_default="message")
    # The platform's fields of a notice or request (OneBot's, for a OneBot driver); null otherwise.
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class DeliveryRow(Base):
    """One delivery attempt of a message to an app name (and the instance it went to)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_message", "message_id"),
        Index("ix_deliveries_app", "app_name", "message_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    app_name: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[str | None] = mapped_column(String(32))
    attempt: Mapped[int] = mapped_column(Integer)
    # pending (queued), sent, acked, failed, expired
    status: Mapped[str] = mapped_column(String(16))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    sent_ms: Mapped[int | None] = mapped_column(BigInteger)
    answered_ms: Mapped[int | None] = mapped_column(BigInteger)
    latency_ms: Mapped[float | None]
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(String(64))


class ReplyRow(Base):
    """One reply or app-initiated send, and what the driver answered."""

    __tablename__ = "replies"
    __table_args__ = (Index("ix_replies_message", "message_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # null for an app-initiated `send`
    message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    app_name: Mapped[str | None] = mapped_column(String(64))
    instance_id: Mapped[str | None] = mapped_column(String(32))
    driver_id: Mapped[str | None] = mapped_column(String(32))
    chat_type: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    content: Mapped[str] = mapped_column(Text)
    template: Mapped[str | None] = mapped_column(String(200))
    # pending (waiting or in flight to the driver), sent, failed
    status: Mapped[str] = mapped_column(String(16))
    platform_message_id: Mapped[str | None] = mapped_column(String(128))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    done_ms: Mapped[int | None] = mapped_column(BigInteger)


# Tables kept in their own modules register on Base when imported; alembic must see them all.
from kenkogo_master.store import (  # noqa: E402, F401
    admin_models,
    deployments,
    i18n_models,
    maintenance_models,
    observability_models,
    onebot_apps,
    package_records,
    runner_records,
    settings_overrides,
)
