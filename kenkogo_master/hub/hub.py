"""The hub facade the transports and the API talk to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.drivers import DriverRegistry, DriverSession
from kenkogo_master.hub.events import EventBus
from kenkogo_master.hub.flow import MessageFlow
from kenkogo_master.hub.ingest import IngestResult
from kenkogo_master.hub.lifecycle import AppLifecycle
from kenkogo_master.hub.ports import Texts
from kenkogo_master.hub.replies import Replies
from kenkogo_master.hub.scheduler import Scheduler
from kenkogo_master.protocol.drivers import InboundEvent
from kenkogo_master.settings import Settings


@dataclass(slots=True)
class Hub:
    """Everything a transport may call, under one name."""

    settings: Settings
    apps: AppLifecycle
    bus: EventBus
    texts: Texts
    # drivers, ingest, scheduler and replies; None only in hubs built without a message flow
    flow: MessageFlow | None = None

    def error(self, error: HubError, locale: str | None) -> dict[str, Any]:
        """Render an error as the wire's `{code, message}` in `locale`."""
        return {
            "code": error.code.value,
            "message": self.texts.text(error.text_key, locale, **error.params),
        }

    def error_of(self, code: ErrorCode, locale: str | None, **params: Any) -> dict[str, Any]:
        """Render an error code with params as `{code, message}`."""
        return self.error(HubError(code, **params), locale)

    def _flow(self) -> MessageFlow:
        if self.flow is None:
            raise RuntimeError("this hub was built without a message flow")
        return self.flow

    @property
    def drivers(self) -> DriverRegistry:
        """Return the live driver registry."""
        return self._flow().drivers

    @property
    def replies(self) -> Replies:
        """Return the replies service."""
        return self._flow().replies

    @property
    def scheduler(self) -> Scheduler:
        """Return the scheduler."""
        return self._flow().scheduler

    async def ingest(
        self, driver: DriverSession, event: InboundEvent, refusable: bool = True
    ) -> IngestResult:
        """Store one inbound event (after its group commit) and schedule it; raise HubError.

        The answer waits (a while at most) while apps lag far behind: see `wait_for_room`.
        A driver that cannot be refused (`refusable=False`: it has no acks) is stored even
        while the Master stops, for the next start to deliver.
        """
        flow = self._flow()
        result = await flow.ingest.ingest(driver, event, refusable)
        await flow.scheduler.wait_for_room()
        return result

    async def ingest_many(
        self, driver: DriverSession, events: Sequence[InboundEvent]
    ) -> list[IngestResult | HubError]:
        """Store several events in one group commit; each answer is a result or its error.

        The answers wait (a while at most) while apps lag far behind: see `wait_for_room`.
        """
        flow = self._flow()
        results = await flow.ingest.ingest_many(driver, events)
        await flow.scheduler.wait_for_room()
        return results
