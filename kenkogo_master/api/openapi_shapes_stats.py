"""Answers of the statistics, trace and system resources: the handlers return these models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from kenkogo_master.api.openapi_shapes import Shape
from kenkogo_master.observability.buckets import Period


class Ranged(Shape):
    """A range [from_ms, to_ms] and the zone its day buckets follow."""

    from_ms: int
    to_ms: int
    timezone: str


class Totals(Shape):
    """Counts over a range."""

    from_ms: int
    messages: int
    deliveries: int
    replies: int
    unrouted: int
    dropped: int
    failed: int
    expired: int
    retries: int
    timeouts: int
    actions_failed: int
    interrupted: int = Field(
        description="messages a restart found unhandled and too old to deliver again"
    )
    messages_by_platform: dict[str, int]


class ActiveSenders(Shape):
    """Distinct senders over the last day, week and 30 days."""

    dau: int
    wau: int
    mau: int


class AppConnections(Shape):
    """Live app connections."""

    total: int
    by_state: dict[str, int]
    by_transport: dict[str, int]


class DriverConnections(Shape):
    """Live driver connections."""

    total: int
    by_transport: dict[str, int]
    by_platform: dict[str, int]


class Connections(Shape):
    """Open connections by kind and state."""

    apps: AppConnections
    drivers: DriverConnections
    event_streams: int


class Disk(Shape):
    """The disk holding the data directory."""

    total_bytes: int
    used_bytes: int
    free_bytes: int
    percent: float


class DatabaseSize(Shape):
    """The database's size: SQLite files (with the WAL) or `pg_database_size`."""

    dialect: str
    bytes: int | None
    files: dict[str, int]
    path: str | None = Field(None, description="SQLite only")


class DataDir(Shape):
    """Usage of the data directory."""

    path: str
    bytes: int
    files: int
    disk: Disk | None


class Storage(Shape):
    """GET /api/v1/stats/storage."""

    database: DatabaseSize
    data_dir: DataDir


class Overview(Shape):
    """GET /api/v1/stats/overview."""

    now_ms: int
    timezone: str
    today: Totals
    last_24h: Totals
    active_senders: ActiveSenders
    senders_total: int
    messages_since_start: int
    messages_per_second: float
    connections: Connections
    storage: Storage


class CountPoint(Shape):
    """One bucket of a series: its start and its count."""

    t: int
    count: int


class MessageFilters(Shape):
    """The filters a message series was asked for."""

    platform: str | None
    chat: str | None
    sender: str | None


class MessageSeries(Ranged):
    """GET /api/v1/stats/messages."""

    interval: Period
    filters: MessageFilters
    total: int
    points: list[CountPoint]


class AppTotals(Shape):
    """Deliveries, replies, retries and failures of one app name."""

    app: str
    deliveries: int
    replies: int
    retries: int
    timeouts: int
    failed: int
    dropped: int
    expired: int


class AppTotalsList(Ranged):
    """GET /api/v1/stats/apps."""

    items: list[AppTotals]
    count: int


class AppSeries(Ranged):
    """GET /api/v1/stats/apps/{name}: one series per counter."""

    app: str
    interval: Period
    totals: dict[str, int]
    series: dict[str, list[CountPoint]]


class CommandTotals(Shape):
    """Deliveries and replies of one app's command."""

    app: str
    command: str
    deliveries: int
    replies: int


class CommandTotalsList(Ranged):
    """GET /api/v1/stats/commands."""

    items: list[CommandTotals]
    count: int


class ActiveCount(Ranged):
    """GET /api/v1/stats/users/active with a window: one count."""

    window_ms: int
    platform: str | None
    active: int


class ActivePoint(Shape):
    """Distinct senders in one bucket."""

    t: int
    active: int


class ActiveSeries(Ranged):
    """GET /api/v1/stats/users/active with an interval: one count per bucket."""

    interval: Period
    points: list[ActivePoint]


class TopSender(Shape):
    """A sender and how many messages they sent."""

    platform: str
    sender_id: str
    name: str | None
    count: int


class TopSenders(Ranged):
    """GET /api/v1/stats/top-senders."""

    items: list[TopSender]
    count: int


class TopChat(Shape):
    """A chat, its messages and how many people spoke in it."""

    platform: str
    chat_type: str
    chat_id: str
    count: int
    senders: int


class TopChats(Ranged):
    """GET /api/v1/stats/top-chats."""

    items: list[TopChat]
    count: int


class TraceSummary(Shape):
    """One trace in a list."""

    trace_id: str
    root: str
    message_id: str | None
    start_ms: int
    duration_us: int
    spans: int
    error: bool


class TraceList(Shape):
    """GET /api/v1/traces: newest first."""

    items: list[TraceSummary]
    count: int


class SpanEvent(Shape):
    """Something that happened during a span."""

    name: str
    offset_us: int
    attributes: dict[str, Any] | None


class Span(Shape):
    """One span, placed in the waterfall by depth and offset from the trace's start."""

    span_id: str
    parent_span_id: str | None
    parent_in_trace: bool
    name: str
    kind: str
    depth: int
    start_ms: int
    end_ms: int
    offset_us: int
    duration_us: int
    status: str
    status_message: str | None
    message_id: str | None
    attributes: dict[str, Any] | None
    events: list[SpanEvent]
    links: list[dict[str, Any]]


class Trace(Shape):
    """GET /api/v1/traces/{trace_id}: the spans in waterfall order."""

    trace_id: str
    root: str
    message_id: str | None
    start_ms: int
    duration_us: int
    error: bool
    spans: list[Span]


class MessageTrace(Trace):
    """GET /api/v1/messages/{id}/trace: its trace, or its timeline when it kept none."""

    message_id: str | None
    source: Literal["trace", "timeline"] = Field(
        description="`trace`: the spans recorded for the message (head-sampled, or kept at the"
        " tail); `timeline`: no trace was kept, the spans are made from its message, delivery"
        " and reply rows (same names and parents; no route levels, driver actions or"
        " transports; `trace_id` is the one of the message's traceparent, with no spans stored)"
    )
    kept: list[Literal["retried", "failed", "expired", "dropped", "unrouted", "slow"]] = Field(
        description="why a trace that head sampling passed over was kept; empty for a"
        " head-sampled trace and for a timeline"
    )


class Cpu(Shape):
    """CPU usage: the machine's, and the process's over all cores and over one."""

    machine_percent: float
    process_percent: float
    process_core_percent: float
    load_average: list[float] | None


class Memory(Shape):
    """Memory of the machine and the process's resident set."""

    machine_total_bytes: int
    machine_used_bytes: int
    machine_available_bytes: int
    machine_percent: float
    process_rss_bytes: int


class SystemDisk(Disk):
    """The disk holding the data directory, with the directory's path."""

    path: str


class System(Shape):
    """GET /api/v1/system: the latest sample, taken every few seconds."""

    os: dict[str, Any]
    python: dict[str, Any]
    master: dict[str, Any]
    cpu_count: int
    boot_ms: int
    time_ms: int
    cpu: Cpu
    memory: Memory
    process: dict[str, Any]
    disk: SystemDisk | None
    connections: Connections
    messages_per_second: float
    telemetry: dict[str, Any]


class SystemPoint(Shape):
    """The figures of one system sample that the live charts draw."""

    time_ms: int
    cpu_percent: float = Field(description="the machine's CPU use")
    process_cpu_percent: float = Field(description="the Master's, 100 meaning all cores")
    memory_percent: float = Field(description="the machine's memory in use")
    process_rss_bytes: int
    apps: int = Field(ge=0, description="app connections")
    drivers: int = Field(ge=0, description="driver connections")
    messages_per_second: float


class SystemHistory(Shape):
    """GET /api/v1/system/history: the samples of the last ten minutes, oldest first."""

    interval_s: float = Field(description="seconds between samples (`[stats] system_interval`)")
    items: list[SystemPoint]
    count: int
