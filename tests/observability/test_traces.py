"""MessageTracer: which messages are traced, span parents, late replies and forgotten traces."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kenkogo_master.observability.trace_export import span_row, summaries
from kenkogo_master.observability.trace_queries import waterfall
from kenkogo_master.observability.traces import MessageTracer, parse_traceparent, traceparent_of

DRIVER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.clear()


def tracer_with(
    exporter: InMemorySpanExporter, ratio: float = 1.0, clock: Clock | None = None
) -> MessageTracer:
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return MessageTracer(provider, ratio, 300.0, clock=clock or Clock())


def names(spans: tuple[ReadableSpan, ...]) -> list[str]:
    return [span.name for span in spans]


def test_traceparents_are_parsed_strictly() -> None:
    context = parse_traceparent(DRIVER)
    assert context is not None and context.is_remote and context.trace_flags.sampled
    assert traceparent_of(context) == DRIVER
    for bad in (
        None,
        "",
        "garbage",
        "01-" + DRIVER[3:],
        DRIVER.replace("4bf9", "XYZ9"),
        "00-" + "0" * 32 + "-00f067aa0ba902b7-01",
    ):
        assert parse_traceparent(bad) is None, bad


def test_sampling_follows_the_driver_then_the_ratio(exported: InMemorySpanExporter) -> None:
    never = tracer_with(exported, ratio=0.0)
    assert never.sampled(DRIVER)
    assert not never.sampled(DRIVER[:-2] + "00")
    assert not never.sampled(None) and not never.sampled("garbage")
    always = tracer_with(exported, ratio=1.0)
    assert always.sampled(None)
    assert not always.sampled(DRIVER[:-2] + "00")  # the caller said no
    assert not MessageTracer(None, 1.0, 300.0).sampled(DRIVER)  # tracing off


def test_untraced_ids_cost_nothing_and_record_nothing(exported: InMemorySpanExporter) -> None:
    tracer = tracer_with(exported)
    tracer.committed("m")
    tracer.routed("m", [["a"]])
    assert tracer.attempt("m", "a", 1, "i") is None
    tracer.acked("m", "a")
    tracer.attempt_failed("m", "a", "x", final=True)
    tracer.message_done("m")
    tracer.action("r", "d")
    tracer.action_done("r", True)
    assert exported.get_finished_spans() == () and tracer.open_count() == 0


def test_a_late_reply_hangs_under_the_acknowledged_attempt(exported: InMemorySpanExporter) -> None:
    tracer = tracer_with(exported)
    traceparent = tracer.received("m1", DRIVER, {"kenkogo.platform": "qq"})
    assert traceparent.split("-")[1] == DRIVER.split("-")[1]
    tracer.committed("m1")
    tracer.routed("m1", [["weather"]])
    sent = tracer.attempt("m1", "weather", 1, "inst-1")
    assert sent is not None and sent != traceparent
    tracer.acked("m1", "weather")
    tracer.message_done("m1")
    assert tracer.traces("m1") is False  # settled: only contexts are kept for replies
    reply = tracer.reply("r1", "m1", "weather", app_traceparent=None)
    assert reply is not None
    tracer.action("r1", "driver-1")
    tracer.action_done("r1", success=False, error="driver_unavailable")
    spans = {span.name: span for span in exported.get_finished_spans()}
    attempt = spans["attempt"]
    assert spans["reply"].parent is not None
    assert spans["reply"].parent.span_id == attempt.context.span_id
    assert spans["driver action"].status.description == "driver_unavailable"
    assert tracer.open_count() == 0


def test_open_traces_are_closed_after_their_time(exported: InMemorySpanExporter) -> None:
    clock = Clock()
    tracer = tracer_with(exported, clock=clock)
    tracer.received("m1", None, {})
    tracer.committed("m1")
    tracer.routed("m1", [["slow"]])
    tracer.attempt("m1", "slow", 1, "inst")
    clock.now += 299
    assert tracer.sweep() == 0
    clock.now += 2
    assert tracer.sweep() == 1
    unfinished = [s for s in exported.get_finished_spans() if s.status.description == "unfinished"]
    assert sorted(names(tuple(unfinished))) == ["attempt", "deliver slow"]
    assert tracer.open_count() == 0 and tracer.reply("r", "m1", "slow") is None


def test_rows_summaries_and_waterfall_order(exported: InMemorySpanExporter) -> None:
    tracer = tracer_with(exported)
    tracer.received("m1", DRIVER, {})
    tracer.committed("m1")
    tracer.routed("m1", [["a", "b"]])
    for app in ("a", "b"):
        tracer.attempt("m1", app, 1, "i")
    tracer.attempt_failed("m1", "b", "ack_timeout", final=True)
    tracer.acked("m1", "a")
    tracer.message_done("m1")
    spans = exported.get_finished_spans()
    rows = [span_row(span) for span in spans]
    [summary] = summaries(spans, rows)
    assert summary["root_name"] == "ingest" and summary["message_id"] == "m1"
    assert summary["spans"] == len(rows) == 7 and summary["error"] is True
    ordered = waterfall(rows)
    assert [(s["name"], s["depth"]) for s in ordered][:2] == [("ingest", 0), ("route", 1)]
    depth = {s["name"]: s["depth"] for s in ordered}
    assert depth["deliver a"] == 1 and depth["attempt"] == 2 and depth["ack"] == 3
    # Each span comes after its parent in the list.
    seen: set[str] = set()
    for span in ordered:
        if span["parent_in_trace"]:
            assert span["parent_span_id"] in seen
        seen.add(span["span_id"])
