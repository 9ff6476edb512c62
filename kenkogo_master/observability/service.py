"""The SQL side of statistics and traces: flush, export, prune, and the queries over them."""

from __future__ import annotations

import asyncio
import logging

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from sqlalchemy import Delete, delete
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master import __version__
from kenkogo_master.hub.events import EventBus
from kenkogo_master.ids import now_ms
from kenkogo_master.observability.buckets import DAY_MS, Calendar, Period
from kenkogo_master.observability.periodic import Periodic
from kenkogo_master.observability.stats import StatsRecorder, StatsWriter
from kenkogo_master.observability.stats_queries import StatsQueries
from kenkogo_master.observability.storage import StorageMeter
from kenkogo_master.observability.telemetry import Telemetry
from kenkogo_master.observability.trace_export import SqlSpanExporter
from kenkogo_master.observability.trace_queries import TraceQueries
from kenkogo_master.observability.traces import MessageTracer
from kenkogo_master.settings import Settings, TraceSettings
from kenkogo_master.store.observability_models import (
    StatsCounter,
    StatsMessages,
    TraceSpan,
    TraceSummary,
)
from kenkogo_master.store.writer import Writer

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0
PRUNE_SECONDS = 3600.0


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
        self.telemetry = Telemetry(self.recorder, self.tracer, bus)
        self._loops = [
            Periodic(
                "stats-flush",
                stats.flush_interval,
                self.stats_writer.flush if stats.enabled else self._discard_stats,
                final=True,
            ),
            Periodic("trace-sweep", SWEEP_SECONDS, self._sweep),
            Periodic("retention", PRUNE_SECONDS, self.prune),
        ]

    async def _discard_stats(self) -> None:
        """Keep totals for /metrics but write nothing (statistics are turned off)."""
        self.recorder.drain()

    async def _sweep(self) -> None:
        self.tracer.sweep()

    async def start(self) -> None:
        """Prune what outlived its retention, then start flushing, sweeping and pruning."""
        await self.prune()
        for loop in self._loops:
            loop.start()

    async def stop(self) -> None:
        """Write what is counted, end open spans and export them."""
        for loop in self._loops:
            await loop.stop()
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
        await asyncio.to_thread(self.provider.force_flush)
        await self.exporter.stored()
        await self._writer.flush()

    async def prune(self) -> int:
        """Delete buckets and spans older than their retention; return how many rows went."""
        now = now_ms()
        removed = 0
        for period, days in self.retention_days.items():
            cutoff = now - int(days * DAY_MS)
            for table in (StatsCounter, StatsMessages):
                removed += await self._delete(
                    delete(table).where(table.period == period.value, table.bucket_ms < cutoff)
                )
        cutoff_ns = (now - int(self.settings.traces.retention_days * DAY_MS)) * 1_000_000
        removed += await self._delete(delete(TraceSpan).where(TraceSpan.start_ns < cutoff_ns))
        removed += await self._delete(delete(TraceSummary).where(TraceSummary.end_ns < cutoff_ns))
        if removed:
            log.info("pruned %d statistics and trace rows past their retention", removed)
        return removed

    async def _delete(self, statement: Delete) -> int:
        # Hourly and outside the hot path, so a transaction of its own rather than the writer's.
        async with self._engine.begin() as connection:
            result = await connection.execute(statement)
        return int(result.rowcount or 0)
