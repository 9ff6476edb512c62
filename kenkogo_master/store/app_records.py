"""What the store keeps about apps: names, instances and their state transitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.store.models import AppInstance, AppName, StateTransition
from kenkogo_master.store.upsert import upsert
from kenkogo_master.store.writer import Writer


@dataclass(frozen=True, slots=True)
class TransitionRow:
    """One recorded state change."""

    from_state: str
    to_state: str
    reason: str
    at_ms: int


class AppRecords:
    """Write app history through the group-commit writer and read it back."""

    def __init__(self, engine: AsyncEngine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        dialect = engine.dialect.name
        self._upsert_name = upsert(
            dialect,
            AppName,
            ["name"],
            {"version": None, "description": None, "author": None, "last_seen_ms": None},
        )
        self._upsert_hold = upsert(dialect, AppName, ["name"], {"held": None})
        self._insert_instance = insert(AppInstance)
        self._register_instance = (
            update(AppInstance)
            .where(AppInstance.id == bindparam("instance_id"))
            .values(
                name=bindparam("name"),
                version=bindparam("version"),
                locale=bindparam("locale"),
                subscription=bindparam("subscription"),
                priority=bindparam("priority"),
                block=bindparam("block"),
                registered_ms=bindparam("registered_ms"),
                remote=bindparam("remote"),
                transport=bindparam("transport"),
            )
        )
        self._set_state = (
            update(AppInstance)
            .where(AppInstance.id == bindparam("instance_id"))
            .values(
                state=bindparam("state"),
                disconnected_ms=bindparam("disconnected_ms"),
                disconnect_reason=bindparam("disconnect_reason"),
            )
        )
        self._insert_transition = insert(StateTransition)

    async def connected(self, instance_id: str, remote: str, transport: str, at_ms: int) -> None:
        """Record a new connection."""
        await self._writer.submit(
            self._insert_instance,
            {
                "id": instance_id,
                "remote": remote,
                "transport": transport,
                "state": "connected",
                "connected_ms": at_ms,
                "block": False,
            },
        )

    async def registered(
        self,
        instance_id: str,
        registration: dict[str, Any],
        remote: str,
        transport: str,
        at_ms: int,
    ) -> None:
        """Record a registration, committed before it returns: the name's row and the instance's.

        Committed, because a restart must know the name (it is away, not absent) even when the
        Master dies a moment after the app was told it is registered.
        """
        await self._writer.submit(
            self._upsert_name,
            {
                "name": registration["name"],
                "version": registration["version"],
                "description": registration["description"],
                "author": registration["author"],
                "first_seen_ms": at_ms,
                "last_seen_ms": at_ms,
                "held": False,
            },
        )
        # After the name's row in the writer's order: waiting for this one waits for both.
        await self._writer.write(
            self._register_instance,
            {
                "instance_id": instance_id,
                "name": registration["name"],
                "version": registration["version"],
                "locale": registration["locale"],
                "subscription": registration["subscribe"],
                "priority": registration["priority"],
                "block": registration["block"],
                "registered_ms": at_ms,
                "remote": remote,
                "transport": transport,
            },
        )

    async def transition(
        self,
        instance_id: str,
        from_state: str,
        to_state: str,
        reason: str,
        at_ms: int,
    ) -> None:
        """Record a state change and the instance's new state."""
        disconnected = to_state == "disconnected"
        await self._writer.submit(
            self._set_state,
            {
                "instance_id": instance_id,
                "state": to_state,
                "disconnected_ms": at_ms if disconnected else None,
                "disconnect_reason": reason if disconnected else None,
            },
        )
        await self._writer.submit(
            self._insert_transition,
            {
                "instance_id": instance_id,
                "from_state": from_state,
                "to_state": to_state,
                "reason": reason,
                "at_ms": at_ms,
            },
        )

    async def set_hold(self, name: str, held: bool, at_ms: int) -> None:
        """Hold or release a name, creating its row if the name was never seen."""
        await self._writer.write(
            self._upsert_hold,
            {
                "name": name,
                "version": "",
                "description": "",
                "author": "",
                "first_seen_ms": at_ms,
                "last_seen_ms": at_ms,
                "held": held,
            },
        )

    async def held_names(self) -> set[str]:
        """Return the names operators hold."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(select(AppName.name).where(AppName.held.is_(True)))
            return {row[0] for row in rows}

    async def recent_registrations(self, since_ms: int) -> list[Any]:
        """Return registered instances still open (left so by an earlier process) or gone since.

        Each row has name, subscription, priority, block, state and disconnected_ms.
        """
        async with self._engine.connect() as connection:
            return list(
                await connection.execute(
                    select(
                        AppInstance.name,
                        AppInstance.subscription,
                        AppInstance.priority,
                        AppInstance.block,
                        AppInstance.state,
                        AppInstance.disconnected_ms,
                    )
                    .where(
                        AppInstance.name.is_not(None),
                        AppInstance.registered_ms.is_not(None),
                        or_(
                            AppInstance.state != "disconnected",
                            AppInstance.disconnected_ms >= since_ms,
                        ),
                    )
                    .order_by(AppInstance.registered_ms)
                )
            )

    async def close_stale(self, reason: str, at_ms: int) -> int:
        """Mark instances left open by an earlier process as disconnected; return how many."""
        async with self._engine.begin() as connection:
            rows = (
                await connection.execute(
                    select(AppInstance.id, AppInstance.state).where(
                        AppInstance.state != "disconnected"
                    )
                )
            ).all()
            for instance_id, state in rows:
                await connection.execute(
                    update(AppInstance)
                    .where(AppInstance.id == instance_id)
                    .values(state="disconnected", disconnected_ms=at_ms, disconnect_reason=reason)
                )
                await connection.execute(
                    insert(StateTransition).values(
                        instance_id=instance_id,
                        from_state=state,
                        to_state="disconnected",
                        reason=reason,
                        at_ms=at_ms,
                    )
                )
        return len(rows)

    async def instance(self, instance_id: str) -> dict[str, Any] | None:
        """Return an instance's row as a dict, or None."""
        await self._writer.flush()
        async with self._engine.connect() as connection:
            row = (
                (
                    await connection.execute(
                        select(AppInstance.__table__).where(AppInstance.id == instance_id)
                    )
                )
                .mappings()
                .first()
            )
            return dict(row) if row is not None else None

    async def transitions(self, instance_id: str) -> list[TransitionRow]:
        """Return an instance's transitions, oldest first."""
        await self._writer.flush()
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(
                    StateTransition.from_state,
                    StateTransition.to_state,
                    StateTransition.reason,
                    StateTransition.at_ms,
                )
                .where(StateTransition.instance_id == instance_id)
                .order_by(StateTransition.at_ms, StateTransition.id)
            )
            return [TransitionRow(*row) for row in rows]

    async def names(self) -> list[dict[str, Any]]:
        """Return every known app name with its hold flag."""
        await self._writer.flush()
        async with self._engine.connect() as connection:
            rows = await connection.execute(select(AppName.__table__).order_by(AppName.name))
            return [dict(row) for row in rows.mappings()]
