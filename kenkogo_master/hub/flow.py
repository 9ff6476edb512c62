"""The message flow's parts, built and started together: drivers, ingest, scheduler, replies."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from kenkogo_master.hub.drivers import DriverRegistry
from kenkogo_master.hub.events import EventBus
from kenkogo_master.hub.ingest import ChatLocale, Ingest, tag_locale
from kenkogo_master.hub.lifecycle import AppLifecycle
from kenkogo_master.hub.messages import InboundMessage
from kenkogo_master.hub.notices import Notifier
from kenkogo_master.hub.ports import Texts
from kenkogo_master.hub.recorder import Recorder
from kenkogo_master.hub.recovery import Redispatch, redeliver_after
from kenkogo_master.hub.replies import Replies, TemplateRenderer, no_templates
from kenkogo_master.hub.scheduler import AwayName, Scheduler
from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.observability.telemetry import Telemetry
from kenkogo_master.settings import AppSettings, Settings
from kenkogo_master.store.driver_records import DriverRecords
from kenkogo_master.store.message_records import MessageRecords

log = logging.getLogger(__name__)


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
    telemetry: Telemetry
    redispatch: Redispatch
    recovery: asyncio.Task[int] | None = None
    handing_over: asyncio.Future[None] | None = None

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

        def redispatch(message: InboundMessage, done: frozenset[str], blocked: bool) -> None:
            replies.remember(message)
            scheduler.dispatch(message, done, blocked)

        def dispatch_many(messages: list[InboundMessage]) -> None:
            for message in messages:
                replies.remember(message)
            scheduler.dispatch_many(messages)

        ingest = Ingest(records, dispatch_many, chat_locale, telemetry)
        return cls(
            registry, ingest, scheduler, replies, records, recorder, notifier, telemetry, redispatch
        )

    async def start(self, settings: AppSettings, away: Sequence[AwayName] = ()) -> None:
        """Load driver ids, take up what an earlier run left unfinished, start recording.

        Names that were there lately are away: their messages wait for them. Every message left
        pending from within `recovery_window` is scheduled again once apps had `recovery_delay`
        to reconnect; older ones are marked interrupted, counted and logged. Replies accepted
        but not sent go out as their drivers attach.
        """
        await self.drivers.load()
        self.scheduler.add_away(away)
        at_ms = now_ms()
        until_id = new_id()  # every message of this run sorts after it
        keep_since = at_ms - int(settings.recovery_window * 1000)
        interrupted, _ = await self.records.close_stale(
            at_ms, keep_since if settings.recovery_window else None
        )
        if interrupted:
            total = sum(interrupted.values())
            log.warning(
                "%d messages left unhandled by the previous run arrived before the recovery "
                "window of %.0f s and are marked interrupted, not delivered",
                total,
                settings.recovery_window,
            )
            self.telemetry.messages_interrupted(interrupted)
        await self.replies.resume(await self.records.pending_replies())
        self.recorder.start()
        self.recovery = asyncio.create_task(
            redeliver_after(
                settings.recovery_delay, self.records, self.scheduler, self.redispatch, until_id
            ),
            name="message-recovery",
        )

    def stop_taking(self) -> None:
        """Refuse new events and hand nothing more out; acks of what apps hold still count."""
        self.ingest.stopping = True
        self.scheduler.stop_sending()
        if self.recovery is not None:
            self.recovery.cancel()  # what it had not scheduled yet stays pending for next time

    async def hand_over(self, grace: float) -> None:
        """Refuse new events, give apps `grace` s to ack what they hold and replies to go out,
        then stop scheduling; a second call waits for the first.

        Whatever is unfinished after that stays pending in SQL: the next start delivers it.
        """
        if self.handing_over is None:
            self.handing_over = asyncio.ensure_future(self._hand_over(grace))
        await asyncio.shield(self.handing_over)

    async def _hand_over(self, grace: float) -> None:
        self.stop_taking()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        held = await self.scheduler.drain(grace)
        sending = await self.replies.settle(max(0.0, deadline - loop.time()))
        if held or sending:
            log.info(
                "stopping with %d messages unacknowledged and %d replies unsent: "
                "the next start delivers them",
                held,
                sending,
            )
        self.close()

    def close(self) -> None:
        """Stop scheduling (before the apps are disconnected, so nothing is redelivered)."""
        self.stop_taking()
        self.scheduler.close()

    async def stop(self) -> None:
        """Finish replies and rows, after `close` and after the apps have gone."""
        await self.replies.stop()
        await self.notifier.drain()
        await self.recorder.stop()
