"""Inbound messages: validate, de-duplicate, commit in groups, then hand over to the scheduler."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.drivers import DriverSession
from kenkogo_master.hub.events import EventBus
from kenkogo_master.hub.messages import InboundMessage, valid_traceparent
from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.observability.telemetry import Telemetry
from kenkogo_master.protocol.drivers import InboundEvent
from kenkogo_master.store.message_records import MessageRecords

log = logging.getLogger(__name__)

# Recent (driver, platform_message_id) keys answered from memory; older duplicates go to SQL.
DEDUPE_MEMORY = 100_000

Key = tuple[str, str]
Dispatch = Callable[[InboundMessage], None]
# (platform, chat id, the event's locale tag, the driver's) -> the locale to speak to the chat in
ChatLocale = Callable[[str, str, str | None, str | None], str | None]


def tag_locale(platform: str, chat_id: str, event: str | None, driver: str | None) -> str | None:
    """Use the event's locale tag, else the driver's, as given: the resolver without i18n."""
    return event or driver


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What a driver is told about one event: the message id, and whether it was seen before."""

    id: str
    duplicate: bool = False

    def to_wire(self) -> dict[str, object]:
        """Return the event's ack of PROTOCOL.md section 4."""
        if self.duplicate:
            return {"success": True, "id": self.id, "duplicate": True}
        return {"success": True, "id": self.id}


class Ingest:
    """Store inbound events once each and pass the new ones on."""

    def __init__(
        self,
        records: MessageRecords,
        dispatch: Dispatch,
        chat_locale: ChatLocale = tag_locale,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._records = records
        self._dispatch = dispatch
        self._chat_locale = chat_locale
        self._telemetry = telemetry or Telemetry.standalone(EventBus())
        # key -> message id once committed, or the future of the commit still under way
        self._recent: OrderedDict[Key, str | asyncio.Future[str | None]] = OrderedDict()
        self.duplicates = 0

    async def ingest(self, driver: DriverSession, event: InboundEvent) -> IngestResult:
        """Store one event; return only after its row is committed."""
        key = (driver.id, event.platform_message_id)
        known = await self._known(key)
        if known is not None:
            return known
        message, pending = self._begin(driver, event, key)
        try:
            await self._records.writer.write(self._records.insert_message, message.row())
        except IntegrityError:
            return await self._collided(key, pending)
        except BaseException:
            self._abandon(key, pending)
            raise
        return self._committed(key, pending, message)

    async def ingest_many(
        self, driver: DriverSession, events: list[InboundEvent]
    ) -> list[IngestResult | HubError]:
        """Store several events in one group commit; answer each in order (errors in place)."""
        results: list[IngestResult | HubError | None] = [None] * len(events)
        fresh: list[tuple[int, Key, InboundMessage, asyncio.Future[str | None]]] = []
        waiting: list[tuple[int, Key]] = []  # keys being stored by this batch or a concurrent one
        for index, event in enumerate(events):
            key = (driver.id, event.platform_message_id)
            entry = self._recent.get(key)
            if isinstance(entry, str):
                self.duplicates += 1
                results[index] = IngestResult(entry, True)
            elif entry is not None:
                waiting.append((index, key))
            else:
                message, pending = self._begin(driver, event, key)
                fresh.append((index, key, message, pending))
        errors = await self._records.writer.write_many(
            self._records.insert_message, [message.row() for _, _, message, _ in fresh]
        )
        for (index, key, message, pending), error in zip(fresh, errors, strict=True):
            if error is None:
                results[index] = self._committed(key, pending, message)
            elif isinstance(error, IntegrityError):
                results[index] = await self._collided(key, pending)
            else:
                self._abandon(key, pending)
                log.error("message %s from driver %s not stored: %s", message.id, driver.id, error)
                results[index] = HubError(ErrorCode.INTERNAL)
        for index, key in waiting:
            try:
                results[index] = await self._known(key) or HubError(ErrorCode.INTERNAL)
            except HubError as exc:
                results[index] = exc
        return [
            result if result is not None else HubError(ErrorCode.INTERNAL) for result in results
        ]

    # -- internals ------------------------------------------------------------------------------

    async def _known(self, key: Key) -> IngestResult | None:
        """Answer from memory when the key was stored (or is being stored) already."""
        entry = self._recent.get(key)
        if entry is None:
            return None
        if isinstance(entry, str):
            self.duplicates += 1
            return IngestResult(entry, True)
        first = await asyncio.shield(entry)
        if first is None:
            raise HubError(ErrorCode.INTERNAL)
        self.duplicates += 1
        return IngestResult(first, True)

    def _begin(
        self, driver: DriverSession, event: InboundEvent, key: Key
    ) -> tuple[InboundMessage, asyncio.Future[str | None]]:
        received_ms = now_ms()
        chat = event.chat.model_dump(exclude_none=True)
        sender = event.sender.model_dump(exclude_none=True)
        message = InboundMessage(
            id=new_id(),
            driver_id=driver.id,
            platform=driver.platform,
            platform_message_id=event.platform_message_id,
            chat=chat,
            sender=sender,
            content=event.content,
            segments=event.segments or [{"type": "text", "data": {"text": event.content}}],
            locale=self._chat_locale(driver.platform, chat["id"], event.locale, driver.locale),
            traceparent=valid_traceparent(event.traceparent),
            time_ms=event.time_ms(received_ms),
            received_ms=received_ms,
        )
        self._telemetry.message_received(message, event.traceparent)
        pending: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._remember(key, pending)
        return message, pending

    def _committed(
        self, key: Key, pending: asyncio.Future[str | None], message: InboundMessage
    ) -> IngestResult:
        self._remember(key, message.id)
        pending.set_result(message.id)
        self._telemetry.message_stored(message)
        self._dispatch(message)
        return IngestResult(message.id)

    async def _collided(self, key: Key, pending: asyncio.Future[str | None]) -> IngestResult:
        """Resolve a unique-index collision: the key was stored before this process remembered."""
        first = await self._records.id_of(*key)
        if first is None:
            self._abandon(key, pending)
            raise HubError(ErrorCode.INTERNAL)
        self._remember(key, first)
        pending.set_result(first)
        self.duplicates += 1
        return IngestResult(first, True)

    def _abandon(self, key: Key, pending: asyncio.Future[str | None]) -> None:
        if self._recent.get(key) is pending:
            del self._recent[key]
        pending.set_result(None)

    def _remember(self, key: Key, value: str | asyncio.Future[str | None]) -> None:
        self._recent[key] = value
        self._recent.move_to_end(key)
        while len(self._recent) > DEDUPE_MEMORY:
            self._recent.popitem(last=False)
