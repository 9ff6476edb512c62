"""A message's timeline from its rows, for a message that kept no trace, shaped like a trace.

The spans carry the names, parents and attributes of a traced message's as far as the rows
tell: `ingest`, `route`, one `deliver <app>` per app name with its `attempt`s and `ack`, and
each `reply`. Times are the rows' milliseconds; what only spans record (the routing levels,
driver actions, the instance's transport) is left out.
"""

from __future__ import annotations

import hashlib
from typing import Any

from kenkogo_master.observability.trace_export import MESSAGE_ID, span_hex, trace_hex
from kenkogo_master.observability.trace_queries import Row, waterfall
from kenkogo_master.observability.traces import parse_traceparent

MS = 1_000_000  # nanoseconds
NO_TRACE = "0" * 32


def _span_id(message_id: str, key: str) -> str:
    """Return a stable id of 16 hex digits, like a span's, for one part of the timeline."""
    return hashlib.blake2b(f"{message_id}/{key}".encode(), digest_size=8).hexdigest()


def _span(
    message_id: str,
    key: str,
    parent: str | None,
    name: str,
    kind: str,
    start_ms: int,
    end_ms: int | None,
    attributes: dict[str, Any],
    status: str = "unset",
    status_message: str | None = None,
) -> Row:
    start = start_ms * MS
    return {
        "span_id": _span_id(message_id, key),
        "parent_span_id": parent,
        "name": name,
        "kind": kind,
        "start_ns": start,
        "end_ns": max(start, end_ms * MS) if end_ms is not None else start,
        "status": status,
        "status_message": status_message,
        "message_id": message_id,
        "attributes": attributes,
        "events": [],
        "links": [],
    }


def _attempt_end(delivery: Row) -> int | None:
    """Return when an attempt was answered (None: not yet)."""
    if delivery["answered_ms"] is None:
        return None
    if delivery["latency_ms"] is not None and delivery["sent_ms"] is not None:
        return int(delivery["sent_ms"] + delivery["latency_ms"])
    return int(delivery["answered_ms"])


def _outcome(delivery: Row) -> tuple[str, str | None]:
    """Return a span's status and its message for a `deliveries` row."""
    if delivery["status"] == "acked":
        return "ok", None
    if delivery["status"] in ("failed", "expired"):
        return "error", delivery["error"]
    return "unset", None  # still pending or sent


def _deliveries(
    message_id: str, ingest: str, by_app: dict[str, list[Row]]
) -> tuple[list[Row], dict[str, str]]:
    """Return each app name's spans and the span its replies hang under."""
    spans: list[Row] = []
    under: dict[str, str] = {}
    for app, attempts in by_app.items():
        final = attempts[-1]
        sent = [item for item in attempts if item["sent_ms"] is not None]
        app_attributes = {MESSAGE_ID: message_id, "kenkogo.app.name": app}
        end_ms = _attempt_end(final)
        status, why = _outcome(final)
        if not sent:
            at = end_ms if end_ms is not None else final["created_ms"]
            deliver = _span(
                message_id,
                f"deliver/{app}",
                ingest,
                f"deliver {app}",
                "internal",
                at,
                at,
                app_attributes,
                status,
                why,
            )
            spans.append(deliver)
            continue
        if end_ms is not None:
            app_attributes["kenkogo.delivery.attempts"] = sent[-1]["attempt"]
        deliver = _span(
            message_id,
            f"deliver/{app}",
            ingest,
            f"deliver {app}",
            "producer",
            sent[0]["sent_ms"],
            end_ms,
            app_attributes,
            status,
            why,
        )
        spans.append(deliver)
        acked: str | None = None
        last = deliver["span_id"]
        for item in sent:
            answered = _attempt_end(item)
            status, why = _outcome(item)
            attempt = _span(
                message_id,
                f"attempt/{item['id']}",
                deliver["span_id"],
                "attempt",
                "client",
                item["sent_ms"],
                answered,
                {
                    MESSAGE_ID: message_id,
                    "kenkogo.app.name": app,
                    "kenkogo.app.instance": item["instance_id"] or "",
                    "kenkogo.delivery.attempt": item["attempt"],
                },
                status,
                why,
            )
            spans.append(attempt)
            last = attempt["span_id"]
            if item["status"] == "acked" and answered is not None:
                acked = last
                spans.append(
                    _span(
                        message_id,
                        f"ack/{item['id']}",
                        last,
                        "ack",
                        "internal",
                        answered,
                        answered,
                        {MESSAGE_ID: message_id, "kenkogo.ack.block": bool(item["blocked"])},
                    )
                )
        under[app] = acked or last
    return spans, under


def timeline(detail: dict[str, Any]) -> Row:
    """Return a message's timeline (a `messages` row with its deliveries and replies) as a trace."""
    message_id = detail["id"]
    context = parse_traceparent(detail["traceparent"])
    received = detail["received_ms"]
    deliveries = detail["deliveries"]
    by_app: dict[str, list[Row]] = {}
    for delivery in deliveries:
        by_app.setdefault(delivery["app_name"], []).append(delivery)
    routed = min((item["created_ms"] for item in deliveries), default=received)
    ingest = _span(
        message_id,
        "ingest",
        span_hex(context.span_id) if context is not None else None,
        "ingest",
        "server",
        received,
        routed,
        {
            MESSAGE_ID: message_id,
            "kenkogo.platform": detail["platform"],
            "kenkogo.driver.id": detail["driver_id"],
            "kenkogo.chat.type": detail["chat_type"],
            "kenkogo.chat.id": detail["chat_id"],
            "kenkogo.sender.id": detail["sender_id"],
            "kenkogo.platform_message_id": detail["platform_message_id"],
        },
    )
    rows = [ingest]
    if deliveries or detail["status"] != "pending":
        route = {
            MESSAGE_ID: message_id,
            "kenkogo.route.apps": list(by_app),
            "kenkogo.route.unrouted": detail["status"] == "unrouted",
        }
        rows.append(
            _span(
                message_id, "route", ingest["span_id"], "route", "internal", routed, routed, route
            )
        )
    spans, under = _deliveries(message_id, ingest["span_id"], by_app)
    rows += spans
    for reply in detail["replies"]:
        status = {"sent": "ok", "failed": "error"}.get(reply["status"], "unset")
        rows.append(
            _span(
                message_id,
                f"reply/{reply['id']}",
                under.get(reply["app_name"] or "", ingest["span_id"]),
                "reply",
                "server",
                reply["created_ms"],
                reply["done_ms"],
                {
                    "kenkogo.reply.id": reply["id"],
                    "kenkogo.app.name": reply["app_name"] or "",
                    MESSAGE_ID: message_id,
                },
                status,
                reply["error_code"],
            )
        )
    start = min(row["start_ns"] for row in rows)
    end = max(row["end_ns"] for row in rows)
    return {
        "trace_id": trace_hex(context.trace_id) if context is not None else NO_TRACE,
        "root": "ingest",
        "message_id": message_id,
        "start_ms": start // MS,
        "duration_us": (end - start) // 1000,
        "error": any(row["status"] == "error" for row in rows),
        "spans": waterfall(rows),
    }
