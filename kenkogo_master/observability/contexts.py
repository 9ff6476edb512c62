"""Start and stop the observability resources of one Master (cleanup contexts for app.py)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from kenkogo_master.hub.events import EventBus
from kenkogo_master.keys import (
    ENGINE,
    EVENT_BUS,
    HUB,
    LIVE_STREAMS,
    LOG_RING,
    METRICS,
    SETTINGS,
    STARTED_AT,
    SYSTEM,
    TELEMETRY,
    WRITER,
)
from kenkogo_master.observability.app_load import AppLoadPublisher
from kenkogo_master.observability.driver_load import DriverLoadPublisher
from kenkogo_master.observability.live import LiveStreams
from kenkogo_master.observability.logs import BusLogHandler, attach_ring, guarded, record_factory
from kenkogo_master.observability.metrics import build_registry
from kenkogo_master.observability.periodic import Periodic
from kenkogo_master.observability.service import TelemetryService
from kenkogo_master.observability.system import SystemSampler
from kenkogo_master.settings import Settings


def configured_secrets(settings: Settings) -> Iterator[str | None]:
    """Yield every secret the configuration holds: masked by value wherever it is logged."""
    yield settings.api.token
    yield from settings.drivers.tokens
    yield settings.onebot.access_token
    yield from (bot.access_token for bot in settings.onebot_apps)
    yield from settings.apps.tokens
    yield settings.metrics.token
    url = settings.storage.database_url
    if url:
        try:
            yield urlsplit(url).password
        except ValueError:
            return


async def logs_context(app: web.Application) -> AsyncIterator[None]:
    """Keep records in the ring, and mask the configured secrets in every record (first)."""
    settings = app[SETTINGS]
    redactor = record_factory().redactor
    secrets = list(configured_secrets(settings))
    redactor.add_secrets(secrets)
    ring, release = attach_ring(settings.logging.ring_size)
    app[LOG_RING] = ring
    yield
    release()
    redactor.remove_secrets(secrets)


async def telemetry_context(app: web.Application) -> AsyncIterator[None]:
    """Create the event bus and the statistics and trace service (before the hub uses them)."""
    settings = app[SETTINGS]
    events = settings.events
    bus = EventBus(events.reader_queue_limit, events.replay_size, events.replay_linger)
    service = TelemetryService(settings, app[ENGINE], app[WRITER], bus)
    app[EVENT_BUS] = bus
    app[TELEMETRY] = service
    app[LIVE_STREAMS] = LiveStreams(bus)
    await service.start()
    yield
    await service.stop()


def connection_counts(app: web.Application) -> dict[str, Any]:
    """Return the open connections by kind and state, from the hub's registries."""
    hub = app[HUB]
    sessions = list(hub.apps.registry)
    drivers = hub.drivers.live() if hub.flow is not None else []
    return {
        "apps": {
            "total": len(sessions),
            "by_state": dict(Counter(session.state.value for session in sessions)),
            "by_transport": dict(Counter(session.peer.transport for session in sessions)),
        },
        "drivers": {
            "total": len(drivers),
            "by_transport": dict(Counter(driver.peer.transport for driver in drivers)),
            "by_platform": dict(Counter(driver.platform for driver in drivers)),
        },
        "event_streams": len(app[LIVE_STREAMS]),
    }


async def end_live_streams(app: web.Application) -> None:
    """End open event streams at shutdown; they would hold the server until its timeout."""
    streams = app.get(LIVE_STREAMS)
    if streams is not None:
        streams.end_all()


async def live_context(app: web.Application) -> AsyncIterator[None]:
    """Sample the system every few seconds and publish log lines (after the hub exists)."""
    settings = app[SETTINGS]
    bus = app[EVENT_BUS]
    service = app[TELEMETRY]
    sampler = SystemSampler(
        data_dir=settings.storage.data_dir,
        started_monotonic=app[STARTED_AT],
        connections=lambda: connection_counts(app),
        messages_total=lambda: service.recorder.messages_total,
        bus=bus,
        interval=settings.stats.system_interval,
    )
    sampler.sample()
    app[SYSTEM] = sampler
    app[METRICS] = build_registry(
        service,
        lambda: connection_counts(app),
        lambda: sampler.latest or sampler.sample(),
    )
    sampling = Periodic("system-sample", settings.stats.system_interval, sampler.step)
    sampling.start()
    load = AppLoadPublisher(lambda: app[HUB].scheduler.describe(), bus)
    loads = Periodic("app-load", settings.stats.system_interval, load.step)
    loads.start()
    driver_load = DriverLoadPublisher(lambda: app[HUB].drivers, bus)
    driver_loads = Periodic("driver-load", settings.stats.system_interval, driver_load.step)
    driver_loads.start()
    handler = guarded(BusLogHandler(bus.publish, asyncio.get_running_loop(), bus.wanted))
    logging.getLogger().addHandler(handler)
    yield
    logging.getLogger().removeHandler(handler)
    await driver_loads.stop()
    await loads.stop()
    await sampling.stop()
