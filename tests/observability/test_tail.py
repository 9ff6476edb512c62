"""TailKeeper: what it keeps, what it forgets, replies it noted, and storms built in slices."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kenkogo_master.hub.messages import InboundMessage
from kenkogo_master.hub.recorder import Attempt, DeliveryStatus
from kenkogo_master.hub.scheduler import Flight, Job
from kenkogo_master.ids import now_ms
from kenkogo_master.observability import tail as tail_module
from kenkogo_master.observability.tail import TailKeeper
from kenkogo_master.observability.traces import MessageTracer

TRACEPARENT = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.clear()


def keeper(exported: InMemorySpanExporter) -> tuple[MessageTracer, TailKeeper]:
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exported))
    tracer = MessageTracer(provider, 0.0, 300.0)
    return tracer, TailKeeper(tracer, slow_ms=1000)


def flight(number: int, *, acked: bool = True, retried: bool = False) -> Flight:
    """Return a settled one-app flight: acked at once, failed, or acked after a retry."""
    at = now_ms()
    message = InboundMessage(
        id=f"m{number}",
        driver_id="d",
        platform="qq",
        platform_message_id=f"p{number}",
        chat={"type": "group", "id": "1"},
        sender={"id": "u"},
        content="hi",
        segments=[],
        locale=None,
        traceparent=TRACEPARENT,
        time_ms=at,
        received_ms=at,
    )
    trip = Flight(message, {}, [[("app", False, False)]])
    job = Job(trip, "app")
    trip.jobs.append(job)

    def attempt(n: int, status: DeliveryStatus, error: str | None = None) -> Attempt:
        return Attempt(
            id=f"a{number}-{n}",
            message_id=message.id,
            app_name="app",
            number=n,
            created_ms=at,
            status=status,
            instance_id="inst",
            sent_ms=at,
            answered_ms=at + 1,
            error=error,
            transport="socket.io",
        )

    if retried:
        job.earlier = [attempt(1, DeliveryStatus.EXPIRED, "ack_timeout")]
        trip.retried = True
    final = attempt(2 if retried else 1, DeliveryStatus.ACKED if acked else DeliveryStatus.FAILED)
    final.error = None if acked else "ack_timeout"
    job.attempt, job.done = final, True
    trip.failed = not acked
    message.settled = True
    return trip


def test_an_unremarkable_message_keeps_nothing_and_forgets_its_reply_notes(
    exported: InMemorySpanExporter,
) -> None:
    _, tail = keeper(exported)
    trip = flight(1)
    trip.message.settled = False
    tail.reply("r1", trip.message, "app", None)
    tail.action("r1", "driver")
    assert tail.describe()["noted"] == 1
    trip.message.settled = True
    tail.settled(trip)
    assert tail.describe() == {"slow_ms": 1000, "kept": 0, "waiting": 0, "lost": 0, "noted": 0}
    tail.action_done("r1", True, None)  # the note is gone: nothing to end
    # A reply to a message whose fate is known is not noted at all.
    tail.reply("r2", trip.message, "app", None)
    assert tail.describe()["noted"] == 0 and exported.get_finished_spans() == ()


def test_a_reply_under_way_when_the_trace_is_built_goes_on_as_a_traced_one(
    exported: InMemorySpanExporter,
) -> None:
    tracer, tail = keeper(exported)
    trip = flight(1, retried=True)
    trip.message.settled = False
    tail.reply("r1", trip.message, "app", "00-" + "3" * 32 + "-" + "4" * 16 + "-01")
    tail.action("r1", "driver")
    trip.message.settled = True
    tail.settled(trip)  # no event loop here: built at once
    spans = {span.name: span for span in exported.get_finished_spans()}
    assert "reply" not in spans and tracer.open_count() == 1
    tracer.action_done("r1", True)
    tail.action_done("r1", True, None)
    spans = {span.name: span for span in exported.get_finished_spans()}
    attempts = [span for span in exported.get_finished_spans() if span.name == "attempt"]
    acked = next(span for span in attempts if span.status.is_ok)
    assert spans["reply"].parent is not None
    assert spans["reply"].parent.span_id == acked.context.span_id
    assert spans["reply"].links[0].context.trace_id == int("3" * 32, 16)
    assert spans["driver action"].parent is not None
    assert spans["driver action"].parent.span_id == spans["reply"].context.span_id
    assert spans["ingest"].attributes is not None
    assert list(spans["ingest"].attributes["kenkogo.trace.kept"]) == ["retried"]
    # A reply after the trace was built hangs under the acked attempt, as for a traced message.
    assert tracer.reply("r2", "m1", "app") is not None
    assert tail.describe()["noted"] == 0 and tracer.open_count() == 1


async def test_a_storm_is_built_a_slice_at_a_time_and_bounded(
    exported: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tail_module, "PENDING_LIMIT", 30)
    monkeypatch.setattr(tail_module, "BUDGET", 0.0)  # one trace per turn of the loop
    _, tail = keeper(exported)
    for number in range(40):
        tail.settled(flight(number, acked=False))
    assert exported.get_finished_spans() == ()  # nothing built while the scheduler works
    assert tail.describe()["waiting"] == 30 and tail.describe()["lost"] == 10
    await asyncio.sleep(0)
    assert 0 < tail.kept < 30
    for _ in range(40):
        await asyncio.sleep(0)
    assert tail.kept == 30 and tail.describe()["waiting"] == 0
    ingests = [span for span in exported.get_finished_spans() if span.name == "ingest"]
    assert len(ingests) == 30
