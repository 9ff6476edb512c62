"""Tail-based keeping over the real server: with sample_ratio 0, every message whose fate mattered
keeps a trace shaped like a head-sampled one; any other message shows its timeline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from tests.conftest import RunningMaster, StartMaster
from tests.support.flow_clients import FlowApp, SioDriver, event, start_app
from tests.support.waiting import eventually

TOKEN = "driver-token"
SAMPLED = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
SETTLED = {"handled", "unrouted", "failed"}
KEPT = "kenkogo.trace.kept"

Shape = list[tuple[Any, ...]]


async def untraced_master(start_master: StartMaster, **overrides: str) -> RunningMaster:
    """A Master that samples nothing by ratio: only a driver's sampled traceparent is traced.

    Nothing counts as slow unless a test says so: each test keeps its trace for one reason.
    """
    settings = {"traces__slow_ms": "60000", **overrides}
    return await start_master(traces__sample_ratio="0", drivers__tokens=f'["{TOKEN}"]', **settings)


async def qq_driver(master: RunningMaster, closing: list[Any]) -> SioDriver:
    driver = await SioDriver(master.url).connect(TOKEN)
    closing.append(driver)
    assert (await driver.register("qq", "10001"))["success"]
    return driver


async def app(
    master: RunningMaster,
    closing: list[Any],
    name: str,
    answer: Callable[[dict[str, Any]], Any] | None = None,
    **fields: Any,
) -> FlowApp:
    started = await start_app(master.url, name, answer, **fields)
    closing.append(started)
    return started


async def settled(master: RunningMaster, message_id: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status, body = await master.api("GET", f"/api/v1/messages/{message_id}")
        assert status == 200, body
        if body["status"] in SETTLED:
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.05)


async def message_trace(master: RunningMaster, message_id: str, spans: int) -> dict[str, Any]:
    """Return GET /messages/{id}/trace once it holds `spans` spans (replies end a moment later)."""
    status, body = await eventually(
        lambda: master.api("GET", f"/api/v1/messages/{message_id}/trace"),
        lambda answer: answer[0] != 200 or len(answer[1]["spans"]) >= spans,
    )
    assert status == 200, body
    assert len(body["spans"]) == spans, [span["name"] for span in body["spans"]]
    return body


def shape(trace: dict[str, Any], attributes: bool = True) -> Shape:
    """Return what must match between two traces: names, kinds, parents, depths and outcomes."""
    by_id = {span["span_id"]: span for span in trace["spans"]}
    rows = []
    for span in trace["spans"]:
        parent = by_id.get(span["parent_span_id"])
        row: tuple[Any, ...] = (
            span["name"],
            span["kind"],
            span["depth"],
            parent["name"] if parent is not None else None,
            span["status"],
            span["status_message"],
        )
        if attributes:
            row += (sorted(set(span["attributes"]) - {KEPT}),)
        rows.append(row)
    return sorted(rows, key=repr)


def spans_named(trace: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [span for span in trace["spans"] if span["name"] == name]


def assert_kept(head: dict[str, Any], tail: dict[str, Any], *reasons: str) -> None:
    """The tail-kept trace has the head-sampled one's shape, and says why it was kept."""
    assert (head["source"], head["kept"]) == ("trace", [])
    assert (tail["source"], tail["kept"]) == ("trace", list(reasons))
    assert shape(tail) == shape(head)
    [ingest] = spans_named(tail, "ingest")
    assert (
        ingest["attributes"][KEPT] == list(reasons)
        and KEPT not in spans_named(head, "ingest")[0]["attributes"]
    )
    assert ingest["depth"] == 0 and not ingest["parent_in_trace"]
    # Children start when or after their parents start.
    by_id = {span["span_id"]: span for span in tail["spans"]}
    for span in tail["spans"]:
        if span["parent_in_trace"]:
            assert span["offset_us"] >= by_id[span["parent_span_id"]]["offset_us"], span["name"]


async def test_a_retried_message_keeps_its_trace_with_its_replies(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await untraced_master(start_master, apps__ack_timeout="0.3")
    driver = await qq_driver(master, closing)

    async def late_once(message: dict[str, Any]) -> dict[str, Any]:
        if message["attempt"] == 1:
            await asyncio.sleep(0.8)  # too late: the attempt timed out
        return {}

    fast = await app(master, closing, "fast")
    fast.answer = lambda message: {"reply": "hi"}  # the ack's reply shortcut
    await app(master, closing, "slow", late_once)
    ids = []
    for traceparent in (SAMPLED, None):
        ack = await driver.send("hello", **({"traceparent": traceparent} if traceparent else {}))
        ids.append(ack["id"])
        await settled(master, ack["id"])
        await driver.next_action()
    # ingest, route, deliver fast, attempt, ack, reply, driver action, deliver slow, 2 attempts, ack
    head, tail = [await message_trace(master, message_id, 11) for message_id in ids]
    assert_kept(head, tail, "retried")
    assert tail["message_id"] == ids[1] and tail["error"] is True
    [timed_out, retried] = sorted(
        (a for a in spans_named(tail, "attempt") if a["attributes"]["kenkogo.app.name"] == "slow"),
        key=lambda a: a["attributes"]["kenkogo.delivery.attempt"],
    )
    assert (timed_out["status"], timed_out["status_message"]) == ("error", "ack_timeout")
    assert 250_000 <= timed_out["duration_us"] < 2_000_000
    assert retried["offset_us"] >= timed_out["offset_us"] + timed_out["duration_us"]
    assert retried["attributes"]["kenkogo.transport"] == "socket.io"
    # The trace is the one whose traceparent the apps were given with the message.
    got = [message for message in fast.received if message["id"] == ids[1]]
    assert got[0]["traceparent"].split("-")[1] == tail["trace_id"]
    [ingest] = spans_named(tail, "ingest")
    assert ingest["parent_span_id"] == got[0]["traceparent"].split("-")[2]
    [reply] = spans_named(tail, "reply")
    [fast_attempt] = [
        a for a in spans_named(tail, "attempt") if a["attributes"]["kenkogo.app.name"] == "fast"
    ]
    assert reply["parent_span_id"] == fast_attempt["span_id"] and reply["status"] == "ok"
    status, listed = await master.api("GET", f"/api/v1/traces?message_id={ids[1]}")
    assert status == 200 and [item["trace_id"] for item in listed["items"]] == [tail["trace_id"]]
    status, system = await master.api("GET", "/api/v1/system")
    assert status == 200 and system["telemetry"]["traces"]["tail"]["kept"] == 1


async def test_a_failed_message_keeps_its_trace(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await untraced_master(start_master, apps__ack_timeout="0.2", apps__max_attempts="2")
    driver = await qq_driver(master, closing)
    mute = await app(master, closing, "mute")
    mute.answer = mute.never_ack
    ids = [
        (await driver.send("one", traceparent=SAMPLED))["id"],
        (await driver.send("two"))["id"],
    ]
    for message_id in ids:
        assert (await settled(master, message_id))["status"] == "failed"
    head, tail = [await message_trace(master, message_id, 5) for message_id in ids]
    assert_kept(head, tail, "retried", "failed")
    [deliver] = spans_named(tail, "deliver mute")
    assert (deliver["status"], deliver["status_message"]) == ("error", "ack_timeout")
    assert deliver["attributes"]["kenkogo.delivery.attempts"] == 2


async def test_a_message_whose_app_stayed_away_keeps_its_trace(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await untraced_master(start_master, apps__away_window="1.0")
    driver = await qq_driver(master, closing)
    worker = await app(master, closing, "worker", subscribe={"commands": ["/job"]})
    await worker.close()
    await eventually(
        lambda: master.api("GET", "/api/v1/app-names"),
        lambda answer: any(item.get("away") for item in answer[1]["items"]),
    )
    ids = [
        (await driver.send("/job 1", traceparent=SAMPLED))["id"],
        (await driver.send("/job 2"))["id"],
    ]
    for message_id in ids:
        assert (await settled(master, message_id))["status"] == "failed"
    head, tail = [await message_trace(master, message_id, 3) for message_id in ids]
    assert_kept(head, tail, "expired")
    [deliver] = spans_named(tail, "deliver worker")
    assert (deliver["status"], deliver["status_message"]) == ("error", "no_instance")


async def test_a_dropped_message_keeps_its_trace(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await untraced_master(start_master, apps__max_in_flight="1", apps__queue_limit="3")
    driver = await qq_driver(master, closing)
    narrow = await app(master, closing, "narrow")
    narrow.answer = narrow.never_ack
    # m1 (sampled by its driver) and m2 are pushed out of the full queue.
    batch = [event(f"m{n}") for n in range(6)]
    batch[1]["traceparent"] = SAMPLED
    answering = asyncio.create_task(driver.call("events", {"events": batch}))
    assert (await narrow.next_message())["content"] == "m0"
    narrow.answer = lambda message: {}
    narrow.release.set()
    ids = [answer["id"] for answer in await asyncio.wait_for(answering, 10)]
    for message_id in ids[1:3]:
        assert (await settled(master, message_id))["status"] == "failed"
    head, tail = [await message_trace(master, message_id, 3) for message_id in ids[1:3]]
    assert_kept(head, tail, "dropped")
    [deliver] = spans_named(tail, "deliver narrow")
    assert (deliver["kind"], deliver["status_message"]) == ("internal", "queue_limit")
    for message_id in ids[3:]:
        assert (await settled(master, message_id))["status"] == "handled"
        status, body = await master.api("GET", f"/api/v1/messages/{message_id}/trace")
        assert status == 200 and body["source"] == "timeline", body


async def test_a_message_unrouted_while_its_app_was_held_keeps_its_trace(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await untraced_master(start_master)
    driver = await qq_driver(master, closing)
    weather = await app(master, closing, "weather", subscribe={"commands": ["/weather"]})
    status, _ = await master.api("POST", "/api/v1/app-names/weather/hold")
    assert status == 200
    assert (await weather.next_state())["state"] == "paused"
    ids = [
        (await driver.send("/weather now", traceparent=SAMPLED))["id"],
        (await driver.send("/weather later"))["id"],
    ]
    chatter = (await driver.send("hello, nobody wants this"))["id"]
    for message_id in [*ids, chatter]:
        assert (await settled(master, message_id))["status"] == "unrouted"
    head, tail = [await message_trace(master, message_id, 2) for message_id in ids]
    assert_kept(head, tail, "unrouted")
    [route] = spans_named(tail, "route")
    assert route["attributes"]["kenkogo.route.unrouted"] is True
    assert route["attributes"]["kenkogo.route.paused"] == ["weather"]
    # What no app would have taken was unrouted by design: it keeps no trace.
    status, body = await master.api("GET", f"/api/v1/messages/{chatter}/trace")
    assert status == 200 and (body["source"], body["kept"]) == ("timeline", [])
    assert [(span["name"], span["depth"]) for span in body["spans"]] == [
        ("ingest", 0),
        ("route", 1),
    ]
    assert body["spans"][1]["attributes"]["kenkogo.route.unrouted"] is True
    # Released, the app takes such messages again, and they keep no trace.
    status, _ = await master.api("POST", "/api/v1/app-names/weather/release")
    assert status == 200
    assert (await weather.next_state())["state"] == "scheduling"
    again = (await driver.send("/weather again"))["id"]
    assert (await settled(master, again))["status"] == "handled"
    status, body = await master.api("GET", f"/api/v1/messages/{again}/trace")
    assert status == 200 and body["source"] == "timeline"
    # An instance paused by an operator counts like a held name.
    status, listed = await master.api("GET", "/api/v1/apps?name=weather")
    [instance] = listed["items"]
    status, _ = await master.api("POST", f"/api/v1/apps/{instance['id']}/pause")
    assert status == 200
    assert (await weather.next_state())["state"] == "paused"
    paused = (await driver.send("/weather paused"))["id"]
    assert (await settled(master, paused))["status"] == "unrouted"
    body = await message_trace(master, paused, 2)
    assert (body["source"], body["kept"]) == ("trace", ["unrouted"])


async def test_a_slow_message_keeps_its_trace(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await untraced_master(start_master, traces__slow_ms="300")

    async def think(message: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0.5 if message["content"] != "quick" else 0)
        return {}

    driver = await qq_driver(master, closing)
    await app(master, closing, "thinker", think)
    ids = [
        (await driver.send("ponder", traceparent=SAMPLED))["id"],
        (await driver.send("ponder"))["id"],
    ]
    quick = (await driver.send("quick"))["id"]
    for message_id in [*ids, quick]:
        assert (await settled(master, message_id))["status"] == "handled"
    head, tail = [await message_trace(master, message_id, 5) for message_id in ids]
    assert_kept(head, tail, "slow")
    assert tail["duration_us"] >= 450_000
    [attempt] = spans_named(tail, "attempt")
    assert attempt["status"] == "ok" and attempt["duration_us"] >= 450_000
    status, body = await master.api("GET", f"/api/v1/messages/{quick}/trace")
    assert status == 200 and body["source"] == "timeline"


async def test_a_fast_normal_message_keeps_no_trace_and_shows_its_timeline(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await untraced_master(start_master)
    driver = await qq_driver(master, closing)
    echo = await app(master, closing, "echo")
    ids = []
    for traceparent in (SAMPLED, None):
        ack = await driver.send("hi", **({"traceparent": traceparent} if traceparent else {}))
        ids.append(ack["id"])
        got = await echo.next_message()
        answer = await echo.call("reply", {"message_id": got["id"], "content": "hello"})
        assert answer["success"], answer
        await driver.next_action()
        await settled(master, ack["id"])
    # ingest, route, deliver echo, attempt, ack, reply, driver action
    head = await message_trace(master, ids[0], 7)
    status, listed = await master.api("GET", f"/api/v1/traces?message_id={ids[1]}")
    assert status == 200 and listed["items"] == []
    timeline = await eventually(
        lambda: master.api("GET", f"/api/v1/messages/{ids[1]}/trace"),
        lambda answer: spans_named(answer[1], "reply")[0]["status"] == "ok",
    )
    status, body = timeline
    assert status == 200 and (body["source"], body["kept"]) == ("timeline", [])
    assert body["message_id"] == ids[1] and body["error"] is False
    # The rows tell everything but the driver action, in the trace's names and parents.
    head_rows = [row for row in shape(head, attributes=False) if row[0] != "driver action"]
    assert shape(body, attributes=False) == head_rows
    assert body["trace_id"] == echo.received[1]["traceparent"].split("-")[1]
    [attempt] = spans_named(body, "attempt")
    assert attempt["attributes"]["kenkogo.delivery.attempt"] == 1
    assert attempt["attributes"]["kenkogo.app.instance"]
    status, system = await master.api("GET", "/api/v1/system")
    assert system["telemetry"]["traces"]["tail"] == {
        "slow_ms": 60000.0,
        "kept": 0,
        "waiting": 0,
        "lost": 0,
        "noted": 0,
    }
