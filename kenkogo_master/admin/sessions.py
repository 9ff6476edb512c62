"""Browser sessions in SQL, kept across restarts; only a hash of each secret is stored."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.admin.accounts import ACCOUNT_COLUMNS, Account
from kenkogo_master.ids import now_ms
from kenkogo_master.settings import AdminSettings
from kenkogo_master.store.admin_models import AdminAccount, AdminSession
from kenkogo_master.store.writer import Writer

log = logging.getLogger(__name__)

MAX_SECRET = 128  # a longer cookie value was never ours

EndListener = Callable[[str], None]


def session_id(secret: str) -> str:
    """Return the stored id of a session: the SHA-256 of its secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    """A live session and the account it belongs to."""

    id: str
    account: Account
    created_ms: int
    expires_ms: int  # the absolute end
    idle_expires_ms: int  # the end if unused from now on


class Sessions:
    """Start, check and end browser sessions."""

    def __init__(self, engine: AsyncEngine, writer: Writer, settings: AdminSettings) -> None:
        self._engine = engine
        self._writer = writer
        self._idle_ms = int(settings.idle_timeout * 1000)
        self._absolute_ms = int(settings.absolute_timeout * 1000)
        self._listeners: list[EndListener] = []
        self._touch = (
            update(AdminSession)
            .where(AdminSession.id == bindparam("session_id"))
            .values(last_seen_ms=bindparam("seen_ms"))
        )
        self._insert = insert(AdminSession)  # built once: the writer prepares it once
        self._delete = delete(AdminSession).where(AdminSession.id == bindparam("session_id"))

    def on_end(self, listener: EndListener) -> None:
        """Call `listener(session_id)` whenever a session is ended in this process."""
        self._listeners.append(listener)

    def ended(self, session_ids: list[str]) -> None:
        """Tell the listeners that these sessions are over (ended here or by an account change)."""
        for ended_id in session_ids:
            for listener in self._listeners:
                listener(ended_id)

    async def start(self, account: Account, address: str, user_agent: str) -> tuple[Session, str]:
        """Store a new session; return it and its secret (the cookie's value, never stored)."""
        secret = secrets.token_urlsafe(32)
        now = now_ms()
        session = Session(
            session_id(secret), account, now, now + self._absolute_ms, now + self._idle_ms
        )
        await self._writer.write(
            self._insert,
            {
                "id": session.id,
                "account_id": account.id,
                "created_ms": now,
                "last_seen_ms": now,
                "address": address[:128],
                "user_agent": user_agent[:256],
            },
        )
        return session, secret

    async def check(self, secret: str, *, touch: bool = True) -> Session | None:
        """Return the live session a cookie's secret opens, or None; `touch` counts it as use."""
        if not secret or len(secret) > MAX_SECRET:
            return None
        return await self.lookup(session_id(secret), touch=touch)

    async def lookup(self, stored_id: str, *, touch: bool = False) -> Session | None:
        """Return the live session with this stored id, or None (ending it if it expired)."""
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(
                        AdminSession.created_ms.label("session_created_ms"),
                        AdminSession.last_seen_ms,
                        *ACCOUNT_COLUMNS,
                    )
                    .join(AdminAccount, AdminAccount.id == AdminSession.account_id)
                    .where(AdminSession.id == stored_id)
                )
            ).first()
        if row is None:
            return None
        now = now_ms()
        expires = row.session_created_ms + self._absolute_ms
        live = (
            now < expires
            and now < row.last_seen_ms + self._idle_ms
            and not row.disabled
            # A session from before a password change (made by another process) is over too.
            and row.session_created_ms >= row.password_changed_ms
        )
        if not live:
            await self.end(stored_id)
            return None
        if touch:
            await self._writer.submit(self._touch, {"session_id": stored_id, "seen_ms": now})
        last_seen = now if touch else row.last_seen_ms
        return Session(
            stored_id,
            Account.of(row),
            row.session_created_ms,
            expires,
            min(expires, last_seen + self._idle_ms),
        )

    async def end(self, stored_id: str) -> None:
        """End one session (logout, or found expired)."""
        await self._writer.write(self._delete, {"session_id": stored_id})
        self.ended([stored_id])

    async def prune(self) -> int:
        """Delete every expired session; return how many."""
        now = now_ms()
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(AdminSession).where(
                    or_(
                        AdminSession.created_ms <= now - self._absolute_ms,
                        AdminSession.last_seen_ms <= now - self._idle_ms,
                    )
                )
            )
        return int(result.rowcount or 0)
