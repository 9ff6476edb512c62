"""Finished spans to SQL: an OpenTelemetry exporter handing batches to the group-commit writer."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import StatusCode
from sqlalchemy import case, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from kenkogo_master.store.observability_models import TraceSpan, TraceSummary
from kenkogo_master.store.writer import Writer

log = logging.getLogger(__name__)

MESSAGE_ID = "kenkogo.message.id"
_STATUS = {StatusCode.UNSET: "unset", StatusCode.OK: "ok", StatusCode.ERROR: "error"}


def trace_hex(trace_id: int) -> str:
    """Return a trace id as 32 hex digits."""
    return f"{trace_id:032x}"


def span_hex(span_id: int) -> str:
    """Return a span id as 16 hex digits."""
    return f"{span_id:016x}"


def _plain(value: Any) -> Any:
    """Return an attribute value JSON can hold (OpenTelemetry keeps sequences as tuples)."""
    return list(value) if isinstance(value, tuple) else value


def span_row(span: ReadableSpan) -> dict[str, Any]:
    """Return the `trace_spans` row of a finished span."""
    context = span.get_span_context()
    assert context is not None
    attributes = {key: _plain(value) for key, value in (span.attributes or {}).items()}
    start = span.start_time or 0
    message_id = attributes.get(MESSAGE_ID)
    return {
        "span_id": span_hex(context.span_id),
        "trace_id": trace_hex(context.trace_id),
        "parent_span_id": span_hex(span.parent.span_id) if span.parent is not None else None,
        "name": span.name[:100],
        "kind": span.kind.name.lower(),
        "start_ns": start,
        "end_ns": span.end_time or start,
        "status": _STATUS[span.status.status_code],
        "status_message": span.status.description,
        "message_id": message_id if isinstance(message_id, str) else None,
        "attributes": attributes,
        "events": [
            {
                "name": event.name,
                "time_ns": event.timestamp,
                "attributes": {k: _plain(v) for k, v in (event.attributes or {}).items()},
            }
            for event in span.events
        ],
        "links": [
            {
                "trace_id": trace_hex(link.context.trace_id),
                "span_id": span_hex(link.context.span_id),
                "attributes": {k: _plain(v) for k, v in (link.attributes or {}).items()},
            }
            for link in span.links
        ],
    }


def summaries(
    spans: Sequence[ReadableSpan], rows: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Fold a batch of spans into one `traces` row per trace."""
    by_trace: dict[str, dict[str, Any]] = {}
    for span, row in zip(spans, rows, strict=True):
        summary = by_trace.get(row["trace_id"])
        if summary is None:
            summary = by_trace[row["trace_id"]] = {
                "trace_id": row["trace_id"],
                "root_name": "",
                "message_id": None,
                "start_ns": row["start_ns"],
                "end_ns": row["end_ns"],
                "spans": 0,
                "error": False,
            }
        summary["start_ns"] = min(summary["start_ns"], row["start_ns"])
        summary["end_ns"] = max(summary["end_ns"], row["end_ns"])
        summary["spans"] += 1
        summary["error"] = summary["error"] or row["status"] == "error"
        summary["message_id"] = summary["message_id"] or row["message_id"]
        # The span that began in this process: no parent, or a parent in another process.
        if span.parent is None or span.parent.is_remote:
            summary["root_name"] = row["name"]
    return list(by_trace.values())


class SqlSpanExporter(SpanExporter):
    """Write spans through the writer; called from the batch processor's thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, writer: Writer, dialect: str) -> None:
        self._loop = loop
        self._writer = writer
        module = postgresql if dialect == "postgresql" else sqlite
        self._insert_span: Insert = module.insert(TraceSpan).on_conflict_do_nothing()
        summary = module.insert(TraceSummary)
        table = TraceSummary.__table__.c
        excluded = summary.excluded
        self._upsert_summary: Insert = summary.on_conflict_do_update(
            index_elements=["trace_id"],
            set_={
                "start_ns": case(
                    (excluded.start_ns < table.start_ns, excluded.start_ns), else_=table.start_ns
                ),
                "end_ns": case(
                    (excluded.end_ns > table.end_ns, excluded.end_ns), else_=table.end_ns
                ),
                "spans": table.spans + excluded.spans,
                "error": table.error | excluded.error,
                "root_name": case(
                    (excluded.root_name != "", excluded.root_name), else_=table.root_name
                ),
                "message_id": func.coalesce(table.message_id, excluded.message_id),
            },
        )
        self._pending: set[concurrent.futures.Future[None]] = set()
        self.exported = 0
        self.lost = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Turn spans into rows here, off the event loop; queue them on the loop."""
        rows = [span_row(span) for span in spans]
        traces = summaries(spans, rows)
        try:
            future = asyncio.run_coroutine_threadsafe(self._store(rows, traces), self._loop)
        except RuntimeError:  # the loop is closed: the process is going away
            self.lost += len(rows)
            return SpanExportResult.FAILURE
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return SpanExportResult.SUCCESS

    async def _store(self, rows: list[dict[str, Any]], traces: list[dict[str, Any]]) -> None:
        for row in rows:
            await self._writer.submit(self._insert_span, row)
        for summary in traces:
            await self._writer.submit(self._upsert_summary, summary)
        self.exported += len(rows)

    async def stored(self) -> None:
        """Wait until every batch exported so far is queued on the writer."""
        pending = list(self._pending)
        if pending:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in pending), return_exceptions=True)

    def shutdown(self) -> None:
        """Nothing to release: the writer belongs to the store."""

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Batches are handed over as they come; nothing is held here."""
        return True
