"""What the store keeps about messages: the messages, their delivery attempts and replies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.store.models import DeliveryRow, MessageRow, ReplyRow
from kenkogo_master.store.prepared import prepare_shaped, shaped
from kenkogo_master.store.writer import StorageUnavailable, Writer

# The values of a `messages` row, in the order the hub hands them over (the table's own).
MESSAGE_COLUMNS = (
    "id",
    "driver_id",
    "platform",
    "platform_message_id",
    "chat_type",
    "chat_id",
    "chat_name",
    "sender_id",
    "sender_name",
    "content",
    "segments",
    "locale",
    "traceparent",
    "time_ms",
    "received_ms",
    "status",
    "kind",
    "detail",
)

# Delivery columns that change after the row is written.
DELIVERY_MUTABLE = (
    "instance_id",
    "attempt",
    "status",
    "sent_ms",
    "answered_ms",
    "latency_ms",
    "blocked",
    "error",
)
REPLY_MUTABLE = ("status", "platform_message_id", "error_code", "error_message", "done_ms")
# A new delivery row, and the parameters of a delivery's update and of a message's new status.
DELIVERY_COLUMNS = (
    "id",
    "message_id",
    "app_name",
    "instance_id",
    "attempt",
    "status",
    "created_ms",
    "sent_ms",
    "answered_ms",
    "latency_ms",
    "blocked",
    "error",
)  # the table's order, which the compiled INSERT keeps: no reordering per row
DELIVERY_CHANGES = (*DELIVERY_MUTABLE, "row_id")
STATUS_COLUMNS = ("status", "row_id")


@dataclass(frozen=True, slots=True)
class MessageQuery:
    """Filters and a page of GET /api/v1/messages."""

    from_ms: int | None = None
    to_ms: int | None = None
    chat: str | None = None
    sender: str | None = None
    app: str | None = None
    status: str | None = None
    platform: str | None = None
    driver: str | None = None
    kind: str | None = None  # "message", or a notice's or request's kind; "notice.*" for a family
    limit: int = 50
    cursor: str | None = None  # the id of the last message of the previous page


# What a reply quotes: a chat message's platform id; a notice or request is nothing to quote.
_QUOTABLE = case((MessageRow.kind == "message", MessageRow.platform_message_id), else_=None)


def _update(table: Any, columns: Sequence[str]) -> Any:
    return (
        update(table)
        .where(table.id == bindparam("row_id"))
        .values({name: bindparam(name) for name in columns})
    )


class MessageRecords:
    """Write messages, deliveries and replies through the group-commit writer; read them back."""

    def __init__(self, engine: AsyncEngine, writer: Writer) -> None:
        self._engine = engine
        self.writer = writer
        self.insert_message = insert(MessageRow)
        self.set_message_status = (
            update(MessageRow)
            .where(MessageRow.id == bindparam("row_id"))
            .values(status=bindparam("status"))
        )
        self.insert_delivery = insert(DeliveryRow)
        self.update_delivery = _update(DeliveryRow, DELIVERY_MUTABLE)
        self.insert_reply = insert(ReplyRow)
        self.update_reply = _update(ReplyRow, REPLY_MUTABLE)
        # Statements whose rows can go to the writer as tuples, many to an entry.
        self._shaped = {
            statement
            for statement, columns in (
                (self.insert_message, MESSAGE_COLUMNS),
                (self.insert_delivery, DELIVERY_COLUMNS),
                (self.update_delivery, DELIVERY_CHANGES),
                (self.set_message_status, STATUS_COLUMNS),
            )
            if prepare_shaped(statement, columns, engine.dialect) is not None
        }

    async def store_messages(self, rows: Sequence[tuple[Any, ...]]) -> list[BaseException | None]:
        """Insert messages (in MESSAGE_COLUMNS order) in one commit; return each row's error.

        The rows go in one executemany; when that fails, they are written again one by one,
        so that only the bad ones (a platform message id stored before, say) fail.
        """
        if not rows:
            return []
        statement = self.insert_message
        if statement in self._shaped:
            try:
                await self.writer.write(statement, shaped(MESSAGE_COLUMNS, rows))
            except Exception as exc:
                if len(rows) == 1 or isinstance(exc, StorageUnavailable):
                    return [exc] * len(rows)
            else:
                return [None] * len(rows)
        return await self.writer.write_many(
            statement, [dict(zip(MESSAGE_COLUMNS, row, strict=True)) for row in rows]
        )

    async def submit_rows(
        self, statement: Executable, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Queue rows of one of the statements above without waiting for their commit."""
        if not rows:
            return
        if statement in self._shaped:
            await self.writer.submit(statement, shaped(columns, rows))
            return
        for row in rows:
            await self.writer.submit(statement, dict(zip(columns, row, strict=True)))

    async def id_of(self, driver_id: str, platform_message_id: str) -> str | None:
        """Return the id stored for a driver's platform message id."""
        async with self._engine.connect() as connection:
            return (
                await connection.execute(
                    select(MessageRow.id).where(
                        MessageRow.driver_id == driver_id,
                        MessageRow.platform_message_id == platform_message_id,
                    )
                )
            ).scalar_one_or_none()

    async def message(self, message_id: str) -> Any | None:
        """Return one message row (attribute access), or None."""
        async with self._engine.connect() as connection:
            return (
                await connection.execute(
                    select(MessageRow.__table__).where(MessageRow.id == message_id)
                )
            ).first()

    async def close_stale(
        self, at_ms: int, keep_since_ms: int | None
    ) -> tuple[dict[str, int], int]:
        """Close what an earlier process left open; return (interrupted by platform, kept replies).

        Pending messages received since `keep_since_ms` stay pending, for `pending_page` to hand
        out again; older ones (all when it is None) are marked interrupted. Their attempts are
        expired either way. Pending replies created since then stay pending too, to be sent again;
        older ones fail.
        """
        stale = MessageRow.status == "pending"
        old_replies = ReplyRow.status == "pending"
        if keep_since_ms is not None:
            stale = and_(stale, MessageRow.received_ms < keep_since_ms)
            old_replies = and_(old_replies, ReplyRow.created_ms < keep_since_ms)
        async with self._engine.begin() as connection:
            counts = await connection.execute(
                select(MessageRow.platform, func.count()).where(stale).group_by(MessageRow.platform)
            )
            interrupted = {platform: int(count) for platform, count in counts}
            if interrupted:
                await connection.execute(
                    update(MessageRow).where(stale).values(status="interrupted")
                )
            await connection.execute(
                update(DeliveryRow)
                .where(DeliveryRow.status.in_(("pending", "sent")))
                .values(status="expired", answered_ms=at_ms, error="master_restarted")
            )
            await connection.execute(
                update(ReplyRow)
                .where(old_replies)
                .values(
                    status="failed",
                    error_code="master_restarted",
                    error_message="the Master stopped before the driver answered",
                    done_ms=at_ms,
                )
            )
            kept = await connection.execute(
                select(func.count()).select_from(ReplyRow).where(ReplyRow.status == "pending")
            )
            return interrupted, int(kept.scalar_one())

    async def pending_page(
        self, until_id: str, after: tuple[int, str] | None, limit: int
    ) -> list[Any]:
        """Return up to `limit` pending messages older than `until_id`, oldest first.

        `after` is the (received_ms, id) of the last message of the previous page.
        """
        conditions: list[ColumnElement[bool]] = [
            MessageRow.status == "pending",
            MessageRow.id < until_id,
        ]
        if after is not None:
            conditions.append(tuple_(MessageRow.received_ms, MessageRow.id) > tuple_(*after))
        async with self._engine.connect() as connection:
            return list(
                await connection.execute(
                    select(MessageRow.__table__)
                    .where(*conditions)
                    .order_by(MessageRow.received_ms, MessageRow.id)
                    .limit(limit)
                )
            )

    async def acked_names(self, message_ids: Sequence[str]) -> dict[str, tuple[set[str], bool]]:
        """Return, per message, the app names that acked it and whether one of them blocked."""
        done: dict[str, tuple[set[str], bool]] = {}
        if not message_ids:
            return done
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(DeliveryRow.message_id, DeliveryRow.app_name, DeliveryRow.blocked).where(
                    DeliveryRow.message_id.in_(message_ids), DeliveryRow.status == "acked"
                )
            )
            for message_id, app_name, blocked in rows:
                names, any_block = done.get(message_id, (set(), False))
                names.add(app_name)
                done[message_id] = (names, any_block or bool(blocked))
        return done

    async def pending_replies(self) -> list[Any]:
        """Return the replies an earlier process left pending; `reply_to` is what they answer."""
        async with self._engine.connect() as connection:
            return list(
                await connection.execute(
                    select(ReplyRow.__table__, _QUOTABLE.label("reply_to"))
                    .outerjoin(MessageRow, MessageRow.id == ReplyRow.message_id)
                    .where(ReplyRow.status == "pending")
                    .order_by(ReplyRow.created_ms, ReplyRow.id)
                )
            )

    async def search(self, query: MessageQuery) -> list[dict[str, Any]]:
        """Return one page of messages, newest first."""
        await self.writer.flush()
        table = MessageRow.__table__
        conditions: list[ColumnElement[bool]] = []
        if query.from_ms is not None:
            conditions.append(MessageRow.received_ms >= query.from_ms)
        if query.to_ms is not None:
            conditions.append(MessageRow.received_ms <= query.to_ms)
        if query.chat is not None:
            conditions.append(MessageRow.chat_id == query.chat)
        if query.sender is not None:
            conditions.append(MessageRow.sender_id == query.sender)
        if query.status is not None:
            conditions.append(MessageRow.status == query.status)
        if query.platform is not None:
            conditions.append(MessageRow.platform == query.platform)
        if query.driver is not None:
            conditions.append(MessageRow.driver_id == query.driver)
        if query.kind is not None:
            if query.kind.endswith(".*"):
                family = query.kind[:-2]
                conditions.append(
                    or_(
                        MessageRow.kind == family,
                        MessageRow.kind.startswith(family + ".", autoescape=True),
                    )
                )
            else:
                conditions.append(MessageRow.kind == query.kind)
        if query.app is not None:
            conditions.append(
                exists().where(
                    and_(DeliveryRow.message_id == MessageRow.id, DeliveryRow.app_name == query.app)
                )
            )
        if query.cursor is not None:
            conditions.append(MessageRow.id < query.cursor)
        statement = (
            select(table).where(*conditions).order_by(MessageRow.id.desc()).limit(query.limit)
        )
        async with self._engine.connect() as connection:
            rows = await connection.execute(statement)
            return [dict(row) for row in rows.mappings()]

    async def detail(self, message_id: str) -> dict[str, Any] | None:
        """Return a message with its deliveries and replies, or None."""
        await self.writer.flush()
        async with self._engine.connect() as connection:
            row = (
                (
                    await connection.execute(
                        select(MessageRow.__table__).where(MessageRow.id == message_id)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            deliveries = await connection.execute(
                select(DeliveryRow.__table__)
                .where(DeliveryRow.message_id == message_id)
                .order_by(DeliveryRow.created_ms, DeliveryRow.attempt, DeliveryRow.id)
            )
            replies = await connection.execute(
                select(ReplyRow.__table__)
                .where(ReplyRow.message_id == message_id)
                .order_by(ReplyRow.created_ms, ReplyRow.id)
            )
            return {
                **dict(row),
                "deliveries": [dict(item) for item in deliveries.mappings()],
                "replies": [dict(item) for item in replies.mappings()],
            }

    async def reply(self, reply_id: str) -> dict[str, Any] | None:
        """Return one reply row, or None."""
        await self.writer.flush()
        async with self._engine.connect() as connection:
            row = (
                (
                    await connection.execute(
                        select(ReplyRow.__table__).where(ReplyRow.id == reply_id)
                    )
                )
                .mappings()
                .first()
            )
            return dict(row) if row is not None else None

    async def sends(self, app_name: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Return app-initiated sends (replies without a message), newest first."""
        await self.writer.flush()
        conditions: list[ColumnElement[bool]] = [ReplyRow.message_id.is_(None)]
        if app_name is not None:
            conditions.append(ReplyRow.app_name == app_name)
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(ReplyRow.__table__)
                .where(*conditions)
                .order_by(ReplyRow.id.desc())
                .limit(limit)
            )
            return [dict(row) for row in rows.mappings()]
