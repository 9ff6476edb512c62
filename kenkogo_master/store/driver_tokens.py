"""Driver tokens: the configured ones plus tokens managed over REST, stored as SHA-256 digests."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.store.models import DriverToken
from kenkogo_master.store.tokens import digest

CONFIGURED = "config"  # the token id reported for tokens from drivers.tokens


@dataclass(slots=True)
class DriverTokenInfo:
    """A stored driver token, without its secret."""

    id: str
    name: str
    created_ms: int
    last_used_ms: int | None = None


RevokeListener = Callable[[str], None]


class DriverTokenStore:
    """Check tokens presented on /driver from memory; create and delete stored ones."""

    def __init__(self, engine: AsyncEngine, configured: list[str]) -> None:
        self._engine = engine
        self._configured = [token.encode() for token in configured]
        self._by_digest: dict[str, DriverTokenInfo] = {}
        self._revoke_listeners: list[RevokeListener] = []

    async def load(self) -> None:
        """Read the stored tokens into memory."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(select(DriverToken))
            self._by_digest = {
                row.DriverToken.token_hash: DriverTokenInfo(
                    row.DriverToken.id,
                    row.DriverToken.name,
                    row.DriverToken.created_ms,
                    row.DriverToken.last_used_ms,
                )
                for row in rows
            }

    def on_revoke(self, listener: RevokeListener) -> None:
        """Call `listener(token_id)` when a stored token is deleted."""
        self._revoke_listeners.append(listener)

    def check(self, presented: object) -> str | None:
        """Return the id of the token presented (CONFIGURED for configured ones), or None."""
        if not isinstance(presented, str) or not presented:
            return None
        encoded = presented.encode()
        # Every configured token is compared, in constant time, so timing tells nothing.
        matched = False
        for token in self._configured:
            matched |= hmac.compare_digest(encoded, token)
        if matched:
            return CONFIGURED
        info = self._by_digest.get(digest(presented))
        if info is None:
            return None
        info.last_used_ms = now_ms()
        return info.id

    def listing(self) -> list[DriverTokenInfo]:
        """Return the stored tokens, oldest first."""
        return sorted(self._by_digest.values(), key=lambda info: (info.created_ms, info.id))

    async def create(self, name: str) -> tuple[DriverTokenInfo, str]:
        """Store a new random token; return it and its secret (shown once)."""
        secret = secrets.token_urlsafe(32)
        info = DriverTokenInfo(new_id(), name, now_ms())
        async with self._engine.begin() as connection:
            await connection.execute(
                insert(DriverToken).values(
                    id=info.id, name=name, token_hash=digest(secret), created_ms=info.created_ms
                )
            )
        self._by_digest[digest(secret)] = info
        return info, secret

    async def delete(self, token_id: str) -> bool:
        """Delete a stored token and cut off drivers using it; tell whether it existed."""
        async with self._engine.begin() as connection:
            result = await connection.execute(delete(DriverToken).where(DriverToken.id == token_id))
        self._by_digest = {
            key: info for key, info in self._by_digest.items() if info.id != token_id
        }
        for listener in self._revoke_listeners:
            listener(token_id)
        return bool(result.rowcount)
