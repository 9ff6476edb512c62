"""The message flow's parts, built and started together: drivers, ingest, scheduler, replies."""

from __future__ import annotations

from dataclasses import dataclass

from kenkogo_master.hub.drivers import DriverRegistry
from kenkogo_master.hub.events import EventBus
from kenkogo_master.hub.ingest import ChatLocale, Ingest, tag_locale
from kenkogo_master.hub.lifecycle import AppLifecycle
from kenkogo_master.hub.messages import InboundMessage
from kenkogo_master.hub.notices import Notifier
from kenkogo_master.hub.ports import Texts
from kenkogo_master.hub.recorder import Recorder
from kenkogo_master.hub.replies import Replies, TemplateRenderer, no_templates
from kenkogo_master.hub.scheduler import Scheduler
from kenkogo_master.ids import now_ms
from kenkogo_master.observability.telemetry import Telemetry
from kenkogo_master.settings import Settings
from kenkogo_master.store.driver_records import DriverRecords
from kenkogo_master.store.message_records import MessageRecords


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

        ingest = Ingest(records, dispatch, chat_locale, telemetry)
        return cls(registry, ingest, scheduler, replies, records, recorder, notifier)

    async def start(self) -> int:
        """Load driver ids, close what an earlier run left open, start recording; return that."""
        await self.drivers.load()
        interrupted = await self.records.close_stale(now_ms())
        self.recorder.start()
        return interrupted

    def close(self) -> None:
        """Stop scheduling (before the apps are disconnected, so nothing is redelivered)."""
        self.scheduler.close()

    async def stop(self) -> None:
        """Finish replies and rows, after `close` and after the apps have gone."""
        await self.replies.stop()
        await self.notifier.drain()
        await self.recorder.stop()
