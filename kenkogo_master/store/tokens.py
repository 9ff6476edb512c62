"""API bearer tokens: stored as SHA-256 digests, checked from memory."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.store.models import ApiToken
from kenkogo_master.store.writer import Writer


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
        # Last use per token id, noted in memory on every check and written at most once a minute.
        self._used: dict[str, int] = {}
        self._unsaved: set[str] = set()
        self._save_used = (
            update(ApiToken)
            .where(ApiToken.id == bindparam("token_id"))
            .values(last_used_ms=bindparam("used_ms"))
        )

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
        self._used.pop(token_id, None)
        self._unsaved.discard(token_id)
        return bool(result.rowcount)

    async def listing(self) -> list[dict[str, Any]]:
        """Return every stored token without its secret, with the freshest last-used time."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(
                    ApiToken.id,
                    ApiToken.name,
                    ApiToken.scope,
                    ApiToken.created_ms,
                    ApiToken.last_used_ms,
                ).order_by(ApiToken.created_ms, ApiToken.id)
            )
            items = [dict(row) for row in rows.mappings()]
        for item in items:
            item["last_used_ms"] = self._used.get(item["id"], item["last_used_ms"])
        return items

    async def save_usage(self, writer: Writer) -> int:
        """Queue the last-used times noted since the previous call; return how many."""
        unsaved, self._unsaved = self._unsaved, set()
        for token_id in unsaved:
            if token_id in self._used:
                await writer.submit(
                    self._save_used, {"token_id": token_id, "used_ms": self._used[token_id]}
                )
        return len(unsaved)

    def check(self, presented: str) -> TokenInfo | None:
        """Return who a presented token belongs to, or None."""
        if self._configured is not None and hmac.compare_digest(
            presented.encode(), self._configured.encode()
        ):
            return TokenInfo("config", "api.token", Scope.ADMIN)
        info = self._by_digest.get(digest(presented))
        if info is not None:
            self._used[info.id] = now_ms()
            self._unsaved.add(info.id)
        return info
