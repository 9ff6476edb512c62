"""The message flow's parts, built and started together: drivers, ingest, scheduler, replies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from kenkogo_master.hub.drivers import DriverRegistry
from kenkogo_master.hub.events import EventBus
from kenkogo_master.hub.ingest import ChatLocale, Ingest, tag_locale
from kenkogo_master.hub.lifecycle import AppLifecycle
from kenkogo_master.hub.messages import InboundMessage
from kenkogo_master.hub.notices import Notifier
from kenkogo_master.hub.ports import Texts
from kenkogo_master.hub.recorder import Recorder
from kenkogo_master.hub.recovery import redeliver_after
from kenkogo_master.hub.replies import Replies, TemplateRenderer, no_templates
from kenkogo_master.hub.scheduler import Scheduler
from kenkogo_master.ids import now_ms
from kenkogo_master.observability.telemetry import Telemetry
from kenkogo_master.settings import AppSettings, Settings
from kenkogo_master.store.driver_records import DriverRecords
from kenkogo_master.store.message_records import MessageRecords


@dataclass(frozen=True, slots=True)
class Restart:
    """What start-up found left over by the previous run."""

    interrupted: int  # marked interrupted: too old to deliver again
    recovered: int  # scheduled again after the recovery delay


@dataclass(slots=True)
class MessageFlow:
    """Everything between a driver's event and an app's reply."""

    drivers: DriverRegistry
    ingest: Ingest
    scheduler: Scheduler
    replies: Replies
    records: MessageRecords
    recorder: Recorder
    notifier: Notifier
    dispatch: Callable[[InboundMessage], None]
    recovery: asyncio.Task[None] | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        apps: AppLifecycle,
        bus: EventBus,
        texts: Texts,
        drivers: DriverRecords,
        records: MessageRecords,
        chat_locale: ChatLocale = tag_locale,
        render: TemplateRenderer = no_templates,
        telemetry: Telemetry | None = None,
    ) -> MessageFlow:
        """Wire the parts; `start` must follow."""
        telemetry = telemetry or Telemetry.standalone(bus)
        registry = DriverRegistry(drivers, bus)
        notifier = Notifier(texts)
        recorder = Recorder(records)
        scheduler = Scheduler(settings.apps, apps.registry, recorder, notifier, telemetry)
        replies = Replies(
            settings.drivers, registry, records, notifier, bus, render, chat_locale, telemetry
        )
        scheduler.on_reply = replies.reply_text
        apps.on_transition(scheduler.on_transition)

        def dispatch(message: InboundMessage) -> None:
            replies.remember(message)
            scheduler.dispatch(message)

        def dispatch_many(messages: list[InboundMessage]) -> None:
            for message in messages:
                replies.remember(message)
            scheduler.dispatch_many(messages)

        ingest = Ingest(records, dispatch_many, chat_locale, telemetry)
        return cls(registry, ingest, scheduler, replies, records, recorder, notifier, dispatch)

    async def start(self, settings: AppSettings) -> Restart:
        """Load driver ids, close what an earlier run left open, start recording.

        Unhandled messages from within `recovery_window` are scheduled again once apps had
        `recovery_delay` to reconnect; older ones are marked interrupted.
        """
        await self.drivers.load()
        at_ms = now_ms()
        keep_since = at_ms - int(settings.recovery_window * 1000)
        interrupted, rows = await self.records.close_stale(
            at_ms, keep_since if settings.recovery_window else None, settings.queue_limit
        )
        self.recorder.start()
        if rows:
            messages = [InboundMessage.from_row(row) for row in rows]
            self.recovery = asyncio.create_task(
                redeliver_after(settings.recovery_delay, messages, self.dispatch),
                name="message-recovery",
            )
        return Restart(interrupted, len(rows))

    def close(self) -> None:
        """Stop scheduling (before the apps are disconnected, so nothing is redelivered)."""
        if self.recovery is not None:
            self.recovery.cancel()  # what it had not scheduled yet stays pending for next time
        self.scheduler.close()

    async def stop(self) -> None:
        """Finish replies and rows, after `close` and after the apps have gone."""
        await self.replies.stop()
        await self.notifier.drain()
        await self.recorder.stop()
