"""REST resources for statistics: overview, message series, apps, commands, senders, storage."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from kenkogo_master.api import openapi_shapes_stats as shapes
from kenkogo_master.api.answers import answers
from kenkogo_master.api.json import query_model
from kenkogo_master.api.stats_params import (
    DEFAULT_SPAN_MS,
    ActiveQuery,
    AppSeriesQuery,
    MessagesQuery,
    NoQuery,
    TopQuery,
    TotalsQuery,
    check_points,
)
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.ids import now_ms
from kenkogo_master.keys import ENGINE, SYSTEM, TELEMETRY
from kenkogo_master.observability.buckets import DAY_MS, Period
from kenkogo_master.observability.contexts import connection_counts
from kenkogo_master.observability.service import TelemetryService
from kenkogo_master.observability.stats import Metric
from kenkogo_master.store.models import AppName

routes = web.RouteTableDef()

# What each app's line shows, and the counters behind it.
APP_METRICS = (
    Metric.DELIVERIES,
    Metric.REPLIES,
    Metric.RETRIES,
    Metric.TIMEOUTS,
    Metric.FAILED,
    Metric.DROPPED,
    Metric.EXPIRED,
)
OVERVIEW_METRICS = (
    Metric.MESSAGES,
    Metric.DELIVERIES,
    Metric.REPLIES,
    Metric.UNROUTED,
    Metric.DROPPED,
    Metric.FAILED,
    Metric.EXPIRED,
    Metric.RETRIES,
    Metric.TIMEOUTS,
    Metric.ACTIONS_FAILED,
    Metric.INTERRUPTED,
)


async def _service(request: web.Request) -> TelemetryService:
    """Return the telemetry service with everything counted so far committed."""
    service = request.app[TELEMETRY]
    await service.flush_stats()
    return service


def _range(start: int, end: int, service: TelemetryService) -> dict[str, Any]:
    return {"from_ms": start, "to_ms": end, "timezone": service.calendar.zone}


async def _totals(service: TelemetryService, start: int, end: int, now: int) -> shapes.Totals:
    rows = await service.stats.counter_totals(OVERVIEW_METRICS, start, end, now)
    totals: dict[str, int] = dict.fromkeys((metric.value for metric in OVERVIEW_METRICS), 0)
    by_platform: dict[str, int] = {}
    for row in rows:
        totals[row["metric"]] += row["count"]
        if row["metric"] == Metric.MESSAGES.value:
            by_platform[row["dim1"]] = by_platform.get(row["dim1"], 0) + row["count"]
    return shapes.Totals(from_ms=start, **totals, messages_by_platform=by_platform)


@routes.get("/api/v1/stats/overview")
@answers(shapes.Overview)
async def overview(request: web.Request) -> shapes.Overview:
    """Today and the last 24 hours at a glance, active senders, connections and storage."""
    query_model(request, NoQuery)
    service = await _service(request)
    now = now_ms()
    today = service.calendar.floor(Period.DAY, now)
    stats = service.stats
    sample = request.app[SYSTEM].latest or {}
    return shapes.Overview(
        now_ms=now,
        timezone=service.calendar.zone,
        today=await _totals(service, today, now + 1, now),
        last_24h=await _totals(service, now - DAY_MS, now + 1, now),
        active_senders=shapes.ActiveSenders(
            dau=await stats.active_senders(now - DAY_MS, now + 1, now),
            wau=await stats.active_senders(now - 7 * DAY_MS, now + 1, now),
            mau=await stats.active_senders(now - 30 * DAY_MS, now + 1, now),
        ),
        senders_total=await stats.senders_known(),
        messages_since_start=service.recorder.messages_total,
        messages_per_second=sample.get("messages_per_second", 0.0),
        connections=connection_counts(request.app),
        storage=await service.storage.describe(),
    )


@routes.get("/api/v1/stats/messages")
@answers(shapes.MessageSeries)
async def messages(request: web.Request) -> shapes.MessageSeries:
    """Messages per minute, hour or day, overall or for a platform, chat or sender."""
    query = query_model(request, MessagesQuery)
    now = now_ms()
    start, end = query.span(now, DEFAULT_SPAN_MS[query.interval])
    check_points(query.interval, start, end)
    service = await _service(request)
    points = await service.stats.message_series(
        query.interval,
        start,
        end,
        platform=query.platform,
        chat=query.chat,
        sender=query.sender,
    )
    return shapes.MessageSeries(
        **_range(start, end, service),
        interval=query.interval,
        filters=shapes.MessageFilters(
            platform=query.platform, chat=query.chat, sender=query.sender
        ),
        total=sum(point["count"] for point in points),
        points=points,
    )


async def _known_apps(request: web.Request) -> list[str]:
    async with request.app[ENGINE].connect() as connection:
        return [row[0] for row in await connection.execute(select(AppName.name))]


@routes.get("/api/v1/stats/apps")
@answers(shapes.AppTotalsList)
async def apps(request: web.Request) -> shapes.AppTotalsList:
    """Deliveries, replies, retries and failures per app name over a range."""
    query = query_model(request, TotalsQuery)
    now = now_ms()
    start, end = query.span(now, DAY_MS)
    service = await _service(request)
    rows = await service.stats.counter_totals(APP_METRICS, start, end, now, dim1=query.app)
    names = [query.app] if query.app is not None else await _known_apps(request)
    table: dict[str, dict[str, Any]] = {
        name: {"app": name, **dict.fromkeys((m.value for m in APP_METRICS), 0)} for name in names
    }
    for row in rows:
        item = table.setdefault(
            row["dim1"], {"app": row["dim1"], **dict.fromkeys((m.value for m in APP_METRICS), 0)}
        )
        item[row["metric"]] += row["count"]
    items = [
        shapes.AppTotals(**item)
        for item in sorted(table.values(), key=lambda item: (-item["deliveries"], item["app"]))
    ]
    return shapes.AppTotalsList(**_range(start, end, service), items=items, count=len(items))


@routes.get("/api/v1/stats/apps/{name}")
@answers(shapes.AppSeries)
async def app_series(request: web.Request) -> shapes.AppSeries:
    """One app name's deliveries, replies and failures per minute, hour or day."""
    name = request.match_info["name"]
    query = query_model(request, AppSeriesQuery)
    now = now_ms()
    start, end = query.span(now, DEFAULT_SPAN_MS[query.interval])
    check_points(query.interval, start, end)
    service = await _service(request)
    if name not in await _known_apps(request) and not await service.stats.knows_dim1(
        APP_METRICS, name
    ):
        raise HubError(ErrorCode.NOT_FOUND, what="app name", id=name)
    series = await service.stats.counter_series(APP_METRICS, query.interval, start, end, name)
    return shapes.AppSeries(
        **_range(start, end, service),
        app=name,
        interval=query.interval,
        totals={metric: sum(p["count"] for p in points) for metric, points in series.items()},
        series=series,
    )


@routes.get("/api/v1/stats/commands")
@answers(shapes.CommandTotalsList)
async def commands(request: web.Request) -> shapes.CommandTotalsList:
    """Deliveries and replies per app name and matched command over a range."""
    query = query_model(request, TotalsQuery)
    now = now_ms()
    start, end = query.span(now, DAY_MS)
    service = await _service(request)
    rows = await service.stats.counter_totals(
        (Metric.DELIVERIES, Metric.REPLIES), start, end, now, by_command=True, dim1=query.app
    )
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        if not row["dim2"]:
            continue  # matched by something other than a command
        key = (row["dim1"], row["dim2"])
        item = table.setdefault(
            key, {"app": key[0], "command": key[1], "deliveries": 0, "replies": 0}
        )
        item[row["metric"]] += row["count"]
    items = [
        shapes.CommandTotals(**item)
        for item in sorted(table.values(), key=lambda i: (-i["deliveries"], i["app"], i["command"]))
    ]
    return shapes.CommandTotalsList(**_range(start, end, service), items=items, count=len(items))


@routes.get("/api/v1/stats/users/active")
@answers(shapes.ActiveCount, shapes.ActiveSeries)
async def active_users(request: web.Request) -> shapes.ActiveCount | shapes.ActiveSeries:
    """Distinct senders over a window ending now (or at `to`), or per bucket of an interval."""
    query = query_model(request, ActiveQuery)
    now = now_ms()
    service = await _service(request)
    if query.interval is not None:
        if query.window is not None:
            detail = "window: give either window (one count) or interval (a series), not both"
            raise HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)
        start, end = query.span(now, DEFAULT_SPAN_MS[query.interval])
        check_points(query.interval, start, end)
        points = await service.stats.active_series(
            query.interval, start, end, platform=query.platform
        )
        return shapes.ActiveSeries(
            **_range(start, end, service), interval=query.interval, points=points
        )
    if query.start is not None:
        detail = "from: a window ends at `to` (default now); use interval for a series"
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)
    window = query.window if query.window is not None else DAY_MS
    end = query.to if query.to is not None else now
    start = end - window
    count = await service.stats.active_senders(start, end + 1, now, platform=query.platform)
    return shapes.ActiveCount(
        **_range(start, end, service), window_ms=window, platform=query.platform, active=count
    )


@routes.get("/api/v1/stats/top-senders")
@answers(shapes.TopSenders)
async def top_senders(request: web.Request) -> shapes.TopSenders:
    """The senders with most messages over a range, with their latest names."""
    query = query_model(request, TopQuery)
    now = now_ms()
    start, end = query.span(now, DAY_MS)
    service = await _service(request)
    items = await service.stats.top_senders(
        start, end, now, query.limit, platform=query.platform, chat=query.chat
    )
    return shapes.TopSenders(**_range(start, end, service), items=items, count=len(items))


@routes.get("/api/v1/stats/top-chats")
@answers(shapes.TopChats)
async def top_chats(request: web.Request) -> shapes.TopChats:
    """The chats with most messages over a range, and how many people spoke in each."""
    query = query_model(request, TopQuery)
    if query.chat is not None:
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail="chat: not a filter of top-chats")
    now = now_ms()
    start, end = query.span(now, DAY_MS)
    service = await _service(request)
    items = await service.stats.top_chats(start, end, now, query.limit, platform=query.platform)
    return shapes.TopChats(**_range(start, end, service), items=items, count=len(items))


@routes.get("/api/v1/stats/storage")
@answers(shapes.Storage)
async def storage(request: web.Request) -> shapes.Storage:
    """Database size, data-directory usage and the disk's free and total bytes."""
    query_model(request, NoQuery)
    return shapes.Storage(**await request.app[TELEMETRY].storage.describe())
