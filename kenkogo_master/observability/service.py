"""The SQL side of statistics and traces: flush, export, and the queries over them.

Pruning past their retention is the store's pruner's job (store/pruner.py), with every
other table's.
"""

from __future__ import annotations

import asyncio
import logging

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master import __version__
from kenkogo_master.hub.events import EventBus
from kenkogo_master.observability.buckets import DAY_MS, Calendar, Period
from kenkogo_master.observability.periodic import Periodic
from kenkogo_master.observability.stats import StatsRecorder, StatsWriter
from kenkogo_master.observability.stats_queries import StatsQueries
from kenkogo_master.observability.storage import StorageMeter
from kenkogo_master.observability.tail import TailKeeper
from kenkogo_master.observability.telemetry import Telemetry
from kenkogo_master.observability.trace_export import SqlSpanExporter
from kenkogo_master.observability.trace_queries import TraceQueries
from kenkogo_master.observability.traces import MessageTracer
from kenkogo_master.settings import Settings, TraceSettings
from kenkogo_master.store.writer import Writer

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0


def _processor(exporter: SpanExporter, settings: TraceSettings) -> SpanProcessor:
    return BatchSpanProcessor(
        exporter,
        max_queue_size=settings.queue_limit,
        schedule_delay_millis=settings.batch_delay_ms,
        max_export_batch_size=min(settings.batch_size, settings.queue_limit),
    )


def otlp_exporter(endpoint: str) -> SpanExporter:
    """Return an OTLP/HTTP exporter (imported only when an endpoint is configured)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    exporter: SpanExporter = OTLPSpanExporter(endpoint=endpoint, timeout=10)
    return exporter


class TelemetryService:
    """Own the recorder, tracer and exporter of one Master, and their background work."""

    def __init__(
        self, settings: Settings, engine: AsyncEngine, writer: Writer, bus: EventBus
    ) -> None:
        self.settings = settings
        self._engine = engine
        self._writer = writer
        stats = settings.stats
        dialect = engine.dialect.name
        self.calendar = Calendar(stats.timezone)
        self.recorder = StatsRecorder()
        self.stats_writer = StatsWriter(self.recorder, writer, self.calendar, dialect)
        self.retention_days = {
            Period.MINUTE: stats.minute_retention_days,
            Period.HOUR: stats.hour_retention_days,
            Period.DAY: stats.day_retention_days,
        }
        self.stats = StatsQueries(engine, self.calendar, self.retention_days)
        self.storage = StorageMeter(engine, settings.storage.data_dir)
        self.traces = TraceQueries(engine)
        traces = settings.traces
        self.exporter: SqlSpanExporter | None = None
        self.provider: TracerProvider | None = None
        if traces.enabled:
            self.exporter = SqlSpanExporter(asyncio.get_running_loop(), writer, dialect)
            self.provider = TracerProvider(
                sampler=ALWAYS_ON,  # MessageTracer decides, before any span exists
                resource=Resource.create(
                    {"service.name": "kenkogo-master", "service.version": __version__}
                ),
                shutdown_on_exit=False,
            )
            self.provider.add_span_processor(_processor(self.exporter, traces))
            if traces.otlp_endpoint:
                exporter = otlp_exporter(traces.otlp_endpoint)
                self.provider.add_span_processor(_processor(exporter, traces))
        self.tracer = MessageTracer(self.provider, traces.sample_ratio, traces.open_seconds)
        self.tail = TailKeeper(self.tracer, traces.slow_ms) if self.tracer.enabled else None
        self.telemetry = Telemetry(self.recorder, self.tracer, bus, self.tail)
        self._stats_flush = Periodic(
            "stats-flush",
            stats.flush_interval,
            self.stats_writer.flush if stats.enabled else self._discard_stats,
            final=True,
        )
        self._loops = [self._stats_flush, Periodic("trace-sweep", SWEEP_SECONDS, self._sweep)]

    async def _discard_stats(self) -> None:
        """Keep totals for /metrics but write nothing (statistics are turned off)."""
        self.recorder.drain()

    async def _sweep(self) -> None:
        self.tracer.sweep()

    def set_sample_ratio(self, ratio: float) -> None:
        """Trace this share of new messages from now on (traces.sample_ratio changed)."""
        self.tracer.sample_ratio = ratio

    def set_flush_interval(self, seconds: float) -> None:
        """Write the counters this often from the next wait on (stats.flush_interval changed)."""
        self._stats_flush.interval = seconds

    def set_retention(self, period: Period, days: float) -> None:
        """Follow a bucket size's retention changed at run time (queries reach back that far)."""
        self.retention_days[period] = days
        self.stats.retention_ms[period] = int(days * DAY_MS)

    async def start(self) -> None:
        """Start flushing and sweeping."""
        for loop in self._loops:
            loop.start()

    async def stop(self) -> None:
        """Write what is counted, end open spans and export them."""
        for loop in self._loops:
            await loop.stop()
        if self.tail is not None:
            self.tail.build_all()
        self.tracer.close_all()
        if self.provider is not None:
            await asyncio.to_thread(self.provider.shutdown)
        if self.exporter is not None:
            await self.exporter.stored()

    async def flush_stats(self) -> None:
        """Commit everything counted so far (before reading statistics)."""
        if self.settings.stats.enabled:
            await self.stats_writer.flush_committed()

    async def flush_traces(self) -> None:
        """Export and commit every finished span (before reading traces)."""
        if self.provider is None or self.exporter is None:
            return
        if self.tail is not None:
            self.tail.build_all()
        await asyncio.to_thread(self.provider.force_flush)
        await self.exporter.stored()
        await self._writer.flush()
