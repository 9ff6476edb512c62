"""SQL tables of admin accounts, their browser sessions and the audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kenkogo_master.store.models import Base


class AdminAccount(Base):
    """A person who may sign in to the panel; the password is kept as an argon2id hash."""

    __tablename__ = "admin_accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # True while the password is the one generated at first start.
    password_generated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    password_changed_ms: Mapped[int] = mapped_column(BigInteger)
    last_login_ms: Mapped[int | None] = mapped_column(BigInteger)


class AdminSession(Base):
    """A signed-in browser; `id` is the SHA-256 of the cookie's secret, never the secret."""

    __tablename__ = "admin_sessions"
    __table_args__ = (Index("ix_admin_sessions_account", "account_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("admin_accounts.id", ondelete="CASCADE"))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    last_seen_ms: Mapped[int] = mapped_column(BigInteger)
    address: Mapped[str] = mapped_column(String(128), default="")
    user_agent: Mapped[str] = mapped_column(String(256), default="")


class AuditRow(Base):
    """Who did what to what, when, from where, and how it ended (`ok` or an error code)."""

    __tablename__ = "audit"
    __table_args__ = (
        Index("ix_audit_time", "time_ms"),
        Index("ix_audit_action", "action", "time_ms"),
        Index("ix_audit_actor", "actor_name", "time_ms"),
        Index("ix_audit_target", "target", "time_ms"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # time-ordered
    time_ms: Mapped[int] = mapped_column(BigInteger)
    # account, token, cli, system or anonymous
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64), default="")
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(128), default="")
    result: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
