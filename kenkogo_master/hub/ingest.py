"""Inbound messages, notices and requests: validate, de-duplicate, commit, hand on."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.drivers import DriverSession
from kenkogo_master.hub.events import EventBus
from kenkogo_master.hub.messages import InboundMessage, new_traceparents, valid_traceparent
from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.observability.telemetry import Telemetry
from kenkogo_master.protocol.drivers import (
    MESSAGE_KIND,
    ChatInfo,
    InboundEvent,
    SenderInfo,
    format_time,
    parse_time_ms,
)
from kenkogo_master.store.message_records import MessageRecords
from kenkogo_master.store.writer import StorageUnavailable

log = logging.getLogger(__name__)

# Recent (driver, platform_message_id) keys answered from memory; older duplicates go to SQL.
DEDUPE_MEMORY = 100_000

Key = tuple[str, str]
Dispatch = Callable[[list[InboundMessage]], None]  # hands stored messages on, in order
# (platform, chat id, the event's locale tag, the driver's) -> the locale to speak to the chat in
ChatLocale = Callable[[str, str, str | None, str | None], str | None]
# A batch's commit still under way: its keys point here until they get their message ids.
Pending = asyncio.Future[None]


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


def _party(model: ChatInfo | SenderInfo) -> dict[str, Any]:
    """Return a chat or a sender as the payload has it: its fields, without an absent name."""
    party = (
        {"type": model.type, "id": model.id} if isinstance(model, ChatInfo) else {"id": model.id}
    )
    if model.name is not None:
        party["name"] = model.name
    return party


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
        # key -> message id once committed, or the commit of its batch while under way
        self._recent: OrderedDict[Key, str | Pending] = OrderedDict()
        self._formatted = (0, format_time(0))  # the last time formatted, as (ms, RFC 3339)
        self.duplicates = 0
        self.stopping = False  # set when the Master stops: events are refused (see ingest_many)

    async def ingest(
        self, driver: DriverSession, event: InboundEvent, refusable: bool = True
    ) -> IngestResult:
        """Store one event; return only after its row is committed; raise HubError."""
        (result,) = await self.ingest_many(driver, [event], refusable)
        if isinstance(result, HubError):
            raise result
        return result

    async def ingest_many(
        self, driver: DriverSession, events: Sequence[InboundEvent], refusable: bool = True
    ) -> list[IngestResult | HubError]:
        """Store several events in one commit; answer each in order (errors in place).

        The batch costs one future and one executemany, not one of each per event; an event
        repeated within the batch, or one that another batch is storing, waits for that commit
        and is answered as a duplicate of it. While the Master stops, `refusable` events are
        refused (their driver sends them again to the next one); the others, from drivers that
        cannot be told, are stored and left for the next start to deliver.
        """
        if self.stopping and refusable:
            return [HubError(ErrorCode.SHUTTING_DOWN)] * len(events)
        results: list[IngestResult | HubError | None] = [None] * len(events)
        recent = self._recent
        commit: Pending = asyncio.get_running_loop().create_future()
        fresh: list[tuple[int, Key, InboundEvent]] = []
        waiting: list[tuple[int, Key, Pending]] = []
        for index, event in enumerate(events):
            key = (driver.id, event.platform_message_id)
            entry = recent.get(key)
            if entry is None:
                recent[key] = commit
                fresh.append((index, key, event))
            elif isinstance(entry, str):
                self.duplicates += 1
                results[index] = IngestResult(entry, True)
            else:
                waiting.append((index, key, entry))
        try:
            if fresh:
                await self._store(driver, fresh, results)
        finally:
            # Keys left on this commit (their rows failed) are forgotten: a retry may store them.
            for _, key, _ in fresh:
                if recent.get(key) is commit:
                    del recent[key]
            commit.set_result(None)
            while len(recent) > DEDUPE_MEMORY:
                recent.popitem(last=False)
        for index, key, other in waiting:
            await asyncio.shield(other)
            entry = recent.get(key)
            if isinstance(entry, str):
                self.duplicates += 1
                results[index] = IngestResult(entry, True)
            else:
                results[index] = HubError(ErrorCode.INTERNAL)
        return [
            result if result is not None else HubError(ErrorCode.INTERNAL) for result in results
        ]

    # -- internals ------------------------------------------------------------------------------

    async def _store(
        self,
        driver: DriverSession,
        fresh: list[tuple[int, Key, InboundEvent]],
        results: list[IngestResult | HubError | None],
    ) -> None:
        """Commit the new events of a batch, remember their ids, then dispatch them in order."""
        messages = self._messages(driver, [event for _, _, event in fresh])
        errors = await self._records.store_messages([message.values() for message in messages])
        recent = self._recent
        stored: list[InboundMessage] = []
        collided: list[tuple[int, Key]] = []
        for (index, key, _), message, error in zip(fresh, messages, errors, strict=True):
            if error is None:
                recent[key] = message.id
                results[index] = IngestResult(message.id)
                stored.append(message)
            elif isinstance(error, IntegrityError):
                collided.append((index, key))
            elif isinstance(error, StorageUnavailable):
                results[index] = HubError(ErrorCode.STORAGE_UNAVAILABLE)
            else:
                log.error(
                    "message %s from driver %s not stored: %s",
                    message.id,
                    driver.id,
                    error,
                    extra={"message_id": message.id, "driver_id": driver.id},
                )
                results[index] = HubError(ErrorCode.INTERNAL)
        telemetry = self._telemetry
        for message in stored:
            telemetry.message_stored(message)
        driver.counts.received += len(stored)
        if stored:
            self._dispatch(stored)
        for index, key in collided:
            results[index] = await self._collided(key)

    def _messages(self, driver: DriverSession, events: list[InboundEvent]) -> list[InboundMessage]:
        """Make the messages of new events, all received now."""
        received_ms = now_ms()
        # Events of one batch often share their time: each distinct one is parsed once.
        times: dict[str, tuple[int, str]] = {}
        untimed = (received_ms, "")  # formatted only when a message goes out
        telemetry = self._telemetry
        chat_locale = self._chat_locale
        platform, driver_id, driver_locale = driver.platform, driver.id, driver.locale
        # (chat id, event locale) -> the chat's locale: resolved once per batch
        locales: dict[tuple[str, str | None], str | None] = {}
        fresh = new_traceparents(len(events)).__next__
        messages = []
        for event in events:
            text = event.time
            if text is None:
                when = untimed
            elif (known := times.get(text)) is not None:
                when = known
            else:
                when = times[text] = self._when(parse_time_ms(text))
            chat = _party(event.chat)
            where = (chat["id"], event.locale)
            if where in locales:
                locale = locales[where]
            else:
                locale = locales[where] = chat_locale(
                    platform, chat["id"], event.locale, driver_locale
                )
            kind = event.kind
            if kind == MESSAGE_KIND:
                segments = event.segments or [{"type": "text", "data": {"text": event.content}}]
            else:
                segments = event.segments  # a notice has no text unless its driver gave one
            message = InboundMessage(
                id=new_id(),
                driver_id=driver_id,
                platform=platform,
                platform_message_id=event.platform_message_id,
                chat=chat,
                sender=_party(event.sender),
                content=event.content,
                segments=segments,
                locale=locale,
                traceparent=valid_traceparent(event.traceparent, fresh),
                time_ms=when[0],
                received_ms=received_ms,
                time_text=when[1],
                kind=kind,
                detail=event.detail,
            )
            telemetry.message_received(message, event.traceparent)
            messages.append(message)
        return messages

    def _when(self, time_ms: int) -> tuple[int, str]:
        """Return a time as (ms, RFC 3339); a driver's messages often share theirs in a row."""
        if self._formatted[0] != time_ms:
            self._formatted = (time_ms, format_time(time_ms))
        return self._formatted

    async def _collided(self, key: Key) -> IngestResult | HubError:
        """Resolve a unique-index collision: the key was stored before this process remembered."""
        first = await self._records.id_of(*key)
        if first is None:
            return HubError(ErrorCode.INTERNAL)
        self._recent[key] = first
        self.duplicates += 1
        return IngestResult(first, True)
