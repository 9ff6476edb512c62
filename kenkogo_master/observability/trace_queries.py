"""Read traces back: one trace as a waterfall, a message's trace, and lists of traces."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.store.observability_models import TraceSpan, TraceSummary

Row = dict[str, Any]


def waterfall(rows: list[Row]) -> list[Row]:
    """Order spans parent first, siblings by start, each with its depth and offset from the start.

    A span whose parent is not in the trace (the driver's, or an app's) starts a branch at depth 0.
    """
    if not rows:
        return []
    origin = min(row["start_ns"] for row in rows)
    by_id = {row["span_id"]: row for row in rows}
    children: dict[str | None, list[Row]] = {}
    for row in rows:
        parent = row["parent_span_id"] if row["parent_span_id"] in by_id else None
        children.setdefault(parent, []).append(row)
    ordered: list[Row] = []
    stack = [(row, 0) for row in sorted(children.get(None, []), key=_start, reverse=True)]
    while stack:
        row, depth = stack.pop()
        ordered.append(_span_out(row, depth, origin, row["parent_span_id"] in by_id))
        for child in sorted(children.get(row["span_id"], []), key=_start, reverse=True):
            stack.append((child, depth + 1))
    return ordered


def _start(row: Row) -> tuple[int, str]:
    return row["start_ns"], row["span_id"]


def _span_out(row: Row, depth: int, origin: int, parent_here: bool) -> Row:
    return {
        "span_id": row["span_id"],
        "parent_span_id": row["parent_span_id"],
        "parent_in_trace": parent_here,
        "name": row["name"],
        "kind": row["kind"],
        "depth": depth,
        "start_ms": row["start_ns"] // 1_000_000,
        "end_ms": row["end_ns"] // 1_000_000,
        "offset_us": (row["start_ns"] - origin) // 1000,
        "duration_us": (row["end_ns"] - row["start_ns"]) // 1000,
        "status": row["status"],
        "status_message": row["status_message"],
        "message_id": row["message_id"],
        "attributes": row["attributes"],
        "events": [
            {
                "name": event["name"],
                "offset_us": (event["time_ns"] - origin) // 1000,
                "attributes": event["attributes"],
            }
            for event in row["events"] or []
        ],
        "links": row["links"] or [],
    }


def _summary_out(row: Any) -> Row:
    return {
        "trace_id": row.trace_id,
        "root": row.root_name,
        "message_id": row.message_id,
        "start_ms": row.start_ns // 1_000_000,
        "duration_us": (row.end_ns - row.start_ns) // 1000,
        "spans": row.spans,
        "error": bool(row.error),
    }


class TraceQueries:
    """Look traces up in SQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def trace(self, trace_id: str) -> Row | None:
        """Return one trace with its spans in waterfall order, or None when unknown."""
        async with self._engine.connect() as connection:
            result = await connection.execute(
                select(TraceSpan.__table__).where(TraceSpan.trace_id == trace_id)
            )
            rows = [dict(row) for row in result.mappings()]
            summary = (
                await connection.execute(
                    select(TraceSummary.__table__).where(TraceSummary.trace_id == trace_id)
                )
            ).first()
        if not rows:
            return None
        start = min(row["start_ns"] for row in rows)
        end = max(row["end_ns"] for row in rows)
        return {
            "trace_id": trace_id,
            "root": summary.root_name if summary is not None else rows[0]["name"],
            "message_id": next((r["message_id"] for r in rows if r["message_id"]), None),
            "start_ms": start // 1_000_000,
            "duration_us": (end - start) // 1000,
            "error": any(row["status"] == "error" for row in rows),
            "spans": waterfall(rows),
        }

    async def trace_of_message(self, message_id: str) -> str | None:
        """Return the id of the trace a message was recorded in, or None."""
        async with self._engine.connect() as connection:
            found = (
                await connection.execute(
                    select(TraceSpan.trace_id).where(TraceSpan.message_id == message_id).limit(1)
                )
            ).first()
        return found[0] if found is not None else None

    async def list(
        self,
        *,
        min_duration_ms: float | None = None,
        status: str | None = None,
        message_id: str | None = None,
        root: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 50,
    ) -> list[Row]:
        """Return trace summaries, newest first, filtered."""
        table = TraceSummary
        statement = select(table.__table__).order_by(table.start_ns.desc()).limit(limit)
        if min_duration_ms is not None:
            statement = statement.where(
                table.end_ns - table.start_ns >= int(min_duration_ms * 1_000_000)
            )
        if status == "error":
            statement = statement.where(table.error.is_(True))
        elif status == "ok":
            statement = statement.where(table.error.is_(False))
        if message_id is not None:
            statement = statement.where(table.message_id == message_id)
        if root is not None:
            statement = statement.where(table.root_name == root)
        if start_ms is not None:
            statement = statement.where(table.start_ns >= start_ms * 1_000_000)
        if end_ms is not None:
            statement = statement.where(table.start_ns < end_ms * 1_000_000)
        async with self._engine.connect() as connection:
            return [_summary_out(row) for row in await connection.execute(statement)]
