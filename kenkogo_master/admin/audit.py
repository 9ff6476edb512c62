"""The audit trail: who did what to what, when, from where, and how it ended — one SQL row each.

Rows go through the group-commit writer and `record` waits for the commit, so an action that
was answered as done is never missing from the trail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.store.admin_models import AuditRow
from kenkogo_master.store.writer import Writer

log = logging.getLogger(__name__)

OK = "ok"  # the result of an action that succeeded; otherwise its error code


class ActorKind(StrEnum):
    """Who acted."""

    ACCOUNT = "account"  # a person signed in with a session
    TOKEN = "token"  # a script with a bearer token
    CLI = "cli"  # a command run on the Master's machine
    SYSTEM = "system"  # the Master itself (first start)
    ANONYMOUS = "anonymous"  # not signed in (a failed login)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something: a kind, an id and a name (either may be empty)."""

    kind: ActorKind
    id: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters of a search, newest first; `cursor` is the id of the previous page's last row."""

    actor: str | None = None  # an actor's name or id
    action: str | None = None
    target: str | None = None
    from_ms: int | None = None
    to_ms: int | None = None
    limit: int = 50
    cursor: str | None = None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class AuditLog:
    """Write audit rows and search them."""

    def __init__(self, engine: AsyncEngine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        self._insert = insert(AuditRow)

    async def record(
        self,
        actor: Actor,
        action: str,
        *,
        target: str = "",
        address: str = "",
        result: str = OK,
        detail: dict[str, Any] | None = None,
    ) -> str:
        """Write one row and wait for its commit; return its id."""
        row_id = new_id()
        await self._writer.write(
            self._insert,
            {
                "id": row_id,
                "time_ms": now_ms(),
                "actor_kind": actor.kind.value,
                "actor_id": _clip(actor.id, 64),
                "actor_name": _clip(actor.name, 100),
                "action": _clip(action, 64),
                "target": _clip(target, 300),
                "address": _clip(address, 128),
                "result": _clip(result, 64),
                "detail": detail or {},
            },
        )
        return row_id

    async def search(self, query: AuditQuery) -> list[dict[str, Any]]:
        """Return the rows that match, newest first."""
        conditions: list[ColumnElement[bool]] = []
        if query.actor is not None:
            conditions.append(
                or_(AuditRow.actor_name == query.actor, AuditRow.actor_id == query.actor)
            )
        if query.action is not None:
            conditions.append(AuditRow.action == query.action)
        if query.target is not None:
            conditions.append(AuditRow.target == query.target)
        if query.from_ms is not None:
            conditions.append(AuditRow.time_ms >= query.from_ms)
        if query.to_ms is not None:
            conditions.append(AuditRow.time_ms < query.to_ms)
        if query.cursor is not None:
            conditions.append(AuditRow.id < query.cursor)
        statement = (
            select(AuditRow.__table__)
            .where(*conditions)
            .order_by(AuditRow.id.desc())
            .limit(query.limit)
        )
        async with self._engine.connect() as connection:
            rows = await connection.execute(statement)
            return [
                {
                    "id": row.id,
                    "time_ms": row.time_ms,
                    "actor": {"kind": row.actor_kind, "id": row.actor_id, "name": row.actor_name},
                    "action": row.action,
                    "target": row.target,
                    "address": row.address,
                    "result": row.result,
                    "detail": row.detail,
                }
                for row in rows
            ]
