"""API bearer tokens: stored as SHA-256 digests, checked from memory."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.store.models import ApiToken


class Scope(StrEnum):
    """What a token may do."""

    READ = "read"  # stats, traces, lists
    ADMIN = "admin"  # everything, including what changes state


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A known token, without its secret."""

    id: str
    name: str
    scope: Scope


def digest(token: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Create, check and delete API tokens."""

    def __init__(self, engine: AsyncEngine, configured: str | None) -> None:
        self._engine = engine
        self._configured = configured
        self._by_digest: dict[str, TokenInfo] = {}

    async def load(self) -> None:
        """Read every stored token into memory."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(ApiToken.id, ApiToken.name, ApiToken.token_hash, ApiToken.scope)
            )
            self._by_digest = {
                row.token_hash: TokenInfo(row.id, row.name, Scope(row.scope)) for row in rows
            }

    def empty(self) -> bool:
        """Tell whether no token is configured or stored."""
        return self._configured is None and not self._by_digest

    async def create(self, name: str, scope: Scope) -> tuple[TokenInfo, str]:
        """Store a new random token; return it and its secret (shown once)."""
        secret = secrets.token_urlsafe(32)
        info = TokenInfo(new_id(), name, scope)
        async with self._engine.begin() as connection:
            await connection.execute(
                insert(ApiToken).values(
                    id=info.id,
                    name=name,
                    token_hash=digest(secret),
                    scope=scope.value,
                    created_ms=now_ms(),
                )
            )
        self._by_digest[digest(secret)] = info
        return info, secret

    async def delete(self, token_id: str) -> bool:
        """Delete a stored token; tell whether it existed."""
        async with self._engine.begin() as connection:
            result = await connection.execute(delete(ApiToken).where(ApiToken.id == token_id))
        self._by_digest = {k: v for k, v in self._by_digest.items() if v.id != token_id}
        return bool(result.rowcount)

    def check(self, presented: str) -> TokenInfo | None:
        """Return who a presented token belongs to, or None."""
        if self._configured is not None and hmac.compare_digest(
            presented.encode(), self._configured.encode()
        ):
            return TokenInfo("config", "api.token", Scope.ADMIN)
        return self._by_digest.get(digest(presented))
