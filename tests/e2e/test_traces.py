"""Message traces over REST after real traffic: every span in its place, with plausible times."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import RunningMaster, StartMaster
from tests.support.flow_clients import FlowApp, SioDriver, start_app

TOKEN = "driver-token"
DRIVER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
DRIVER_SPAN = "00f067aa0ba902b7"
APP_SPAN = "b7ad6b7169203331"


async def traced_master(start_master: StartMaster, **overrides: str) -> RunningMaster:
    settings = {"traces__sample_ratio": "1.0", "drivers__tokens": f'["{TOKEN}"]', **overrides}
    return await start_master(**settings)


async def qq_driver(master: RunningMaster) -> SioDriver:
    driver = await SioDriver(master.url).connect(TOKEN)
    assert (await driver.register("qq", "10001"))["success"]
    return driver


async def settled(master: RunningMaster, message_id: str) -> None:
    for _ in range(200):
        _, body = await master.api("GET", f"/api/v1/messages/{message_id}")
        if body["status"] in ("handled", "unrouted", "failed"):
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the message never settled")


def by_name(spans: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for span in spans:
        found.setdefault(span["name"], []).append(span)
    return found


async def test_two_apps_and_one_retry_make_one_ordered_trace(start_master: StartMaster) -> None:
    master = await traced_master(start_master, apps__ack_timeout="0.3")
    driver = await qq_driver(master)

    async def slow(message: dict[str, Any]) -> dict[str, Any]:
        if message["attempt"] == 1:
            await asyncio.sleep(1.0)  # too late: the attempt has timed out by then
        return {}

    fast = await start_app(master.url, "fast")
    late = await start_app(master.url, "slow", slow)
    ack = await driver.send("hello", traceparent=f"00-{DRIVER_TRACE}-{DRIVER_SPAN}-01")
    message_id = ack["id"]
    got_fast = await fast.next_message()
    # The app does its own work under the attempt's span, then replies with its traceparent.
    app_traceparent = f"00-{DRIVER_TRACE}-{APP_SPAN}-01"
    reply = await fast.call(
        "reply", {"message_id": message_id, "content": "hi", "traceparent": app_traceparent}
    )
    assert reply["success"], reply
    first = await late.next_message()
    second = await late.next_message()
    assert (first["attempt"], second["attempt"]) == (1, 2)
    await settled(master, message_id)
    await driver.next_action()

    status, body = await master.api("GET", f"/api/v1/messages/{message_id}/trace")
    assert status == 200, body
    assert body["trace_id"] == DRIVER_TRACE and body["message_id"] == message_id
    assert (body["source"], body["kept"]) == ("trace", [])
    spans = body["spans"]
    ids = {span["span_id"]: span for span in spans}
    names = by_name(spans)
    assert sorted(names) == sorted(
        [
            "ingest",
            "route",
            "deliver fast",
            "deliver slow",
            "attempt",
            "ack",
            "reply",
            "driver action",
        ]
    )
    assert len(names["attempt"]) == 3 and len(names["ack"]) == 2 and len(spans) == 11

    [ingest] = names["ingest"]
    assert ingest["parent_span_id"] == DRIVER_SPAN and not ingest["parent_in_trace"]
    assert ingest["depth"] == 0 and spans[0] is ingest
    assert ingest["attributes"]["kenkogo.message.id"] == message_id

    def parent(span: dict[str, Any]) -> dict[str, Any]:
        return ids[span["parent_span_id"]]

    [route] = names["route"]
    assert parent(route) is ingest
    assert sorted(route["attributes"]["kenkogo.route.apps"]) == ["fast", "slow"]
    [deliver_fast], [deliver_slow] = names["deliver fast"], names["deliver slow"]
    assert parent(deliver_fast) is ingest and parent(deliver_slow) is ingest
    fast_attempts = [a for a in names["attempt"] if parent(a) is deliver_fast]
    slow_attempts = sorted(
        (a for a in names["attempt"] if parent(a) is deliver_slow),
        key=lambda a: a["attributes"]["kenkogo.delivery.attempt"],
    )
    assert len(fast_attempts) == 1 and len(slow_attempts) == 2
    timed_out, retried = slow_attempts
    assert (timed_out["status"], timed_out["status_message"]) == ("error", "ack_timeout")
    assert retried["status"] == "ok" and deliver_slow["status"] == "ok"
    assert {parent(a)["span_id"] for a in names["ack"]} == {
        fast_attempts[0]["span_id"],
        retried["span_id"],
    }
    # Each attempt carried its own span to the app as the traceparent.
    assert got_fast["traceparent"] == f"00-{DRIVER_TRACE}-{fast_attempts[0]['span_id']}-01"
    assert second["traceparent"] == f"00-{DRIVER_TRACE}-{retried['span_id']}-01"

    [reply_span] = names["reply"]
    assert parent(reply_span) is fast_attempts[0]
    assert reply_span["links"][0]["span_id"] == APP_SPAN
    [action] = names["driver action"]
    assert parent(action) is reply_span and action["status"] == "ok"

    # Children start after their parents; the retry after the timed-out attempt ended.
    for span in spans:
        if span["parent_in_trace"]:
            assert span["offset_us"] >= parent(span)["offset_us"], span["name"]
            assert span["depth"] == parent(span)["depth"] + 1
    assert 250_000 <= timed_out["duration_us"] < 2_000_000
    assert retried["offset_us"] >= timed_out["offset_us"] + timed_out["duration_us"]
    assert action["offset_us"] >= reply_span["offset_us"]

    status, listed = await master.api("GET", "/api/v1/traces?status=error&min_duration_ms=250")
    assert [item["trace_id"] for item in listed["items"]] == [DRIVER_TRACE]
    assert listed["items"][0]["spans"] == 11 and listed["items"][0]["error"] is True
    status, listed = await master.api("GET", "/api/v1/traces?min_duration_ms=600000")
    assert listed["items"] == []
    status, same = await master.api("GET", f"/api/v1/traces/{DRIVER_TRACE}")
    assert status == 200 and [s["span_id"] for s in same["spans"]] == [s["span_id"] for s in spans]
    for client in (fast, late, driver):
        await client.close()


async def test_sampling_follows_the_driver_and_the_ratio(start_master: StartMaster) -> None:
    master = await traced_master(start_master, traces__sample_ratio="0")
    driver = await qq_driver(master)
    app = await start_app(master.url, "echo")
    untraced = await driver.send("no trace")
    wanted = await driver.send("trace me", traceparent=f"00-{DRIVER_TRACE}-{DRIVER_SPAN}-01")
    declined = await driver.send(
        "not me", traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
    )
    for _ in range(3):
        await app.next_message()
    for ack in (untraced, wanted, declined):
        await settled(master, ack["id"])
    status, body = await master.api("GET", f"/api/v1/messages/{wanted['id']}/trace")
    assert status == 200 and body["trace_id"] == DRIVER_TRACE and body["source"] == "trace"
    # The others kept no trace: their timelines, from their rows, stand in for one.
    for ack in (untraced, declined):
        status, body = await master.api("GET", f"/api/v1/messages/{ack['id']}/trace")
        assert (status, body["source"], body["kept"]) == (200, "timeline", []), body
    status, listed = await master.api("GET", "/api/v1/traces")
    assert [item["trace_id"] for item in listed["items"]] == [DRIVER_TRACE]
    await app.close()
    await driver.close()


async def test_an_app_send_is_a_trace_of_its_own(start_master: StartMaster) -> None:
    master = await traced_master(start_master)
    driver = await qq_driver(master)
    app: FlowApp = await start_app(master.url, "notifier")
    answer = await app.call(
        "send",
        {"target": {"platform": "qq", "chat": {"type": "group", "id": "9"}}, "content": "news"},
    )
    assert answer["success"], answer
    await driver.next_action()
    for _ in range(50):
        status, body = await master.api("GET", "/api/v1/traces?root=send")
        if body["items"]:
            break
        await asyncio.sleep(0.05)
    [summary] = body["items"]
    status, trace = await master.api("GET", f"/api/v1/traces/{summary['trace_id']}")
    assert status == 200, trace
    assert [(s["name"], s["depth"]) for s in trace["spans"]] == [("send", 0), ("driver action", 1)]
    assert trace["spans"][0]["attributes"]["kenkogo.reply.id"] == answer["id"]
    await app.close()
    await driver.close()


async def test_unknown_and_malformed_ids(start_master: StartMaster) -> None:
    master = await traced_master(start_master)
    status, body = await master.api("GET", "/api/v1/traces/" + "ab" * 16)
    assert (status, body["code"]) == (404, "not_found")
    status, body = await master.api("GET", "/api/v1/traces/not-a-trace")
    assert (status, body["code"]) == (400, "invalid_payload") and "trace_id" in body["message"]
    status, body = await master.api("GET", "/api/v1/messages/01nosuchmessage/trace")
    assert (status, body["code"]) == (404, "not_found")
    for query in ("status=broken", "min_duration_ms=fast", "limit=0", "from=5&to=1"):
        status, body = await master.api("GET", f"/api/v1/traces?{query}")
        assert (status, body["code"]) == (400, "invalid_payload"), query
