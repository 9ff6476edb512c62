"""The live event stream (SSE): topics, log levels, keep-alives and slow readers."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import aiohttp

from tests.conftest import RunningMaster, StartMaster
from tests.support.flow_clients import SioDriver, start_app

TOKEN = "driver-token"


class SseReader:
    """Read Server-Sent Events frames from a streaming response."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.comments: list[str] = []
        self.replayed: list[dict[str, str]] = []
        self.ready_id = ""

    async def frame(self, timeout: float = 5) -> dict[str, str]:
        """Return the next frame with data as a dict of its fields; comments are kept aside."""
        fields: dict[str, str] = {}
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.response.content.readline()
                if not raw:
                    raise EOFError("the stream ended")
                line = raw.decode().rstrip("\n")
                if not line:
                    if fields:
                        return fields
                    continue
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                    continue
                name, _, value = line.partition(":")
                fields[name] = value.strip()

    async def event(self, topic: str | None = None, timeout: float = 5) -> dict[str, Any]:
        """Return the next event (of `topic` when given) as its decoded data."""
        async with asyncio.timeout(timeout):
            while True:
                fields = await self.frame(timeout)
                if "data" in fields and (topic is None or fields.get("event") == topic):
                    data: dict[str, Any] = json.loads(fields["data"])
                    data["_event"] = fields.get("event")
                    return data


@asynccontextmanager
async def stream(
    master: RunningMaster, query: str = "", headers: dict[str, str] | None = None
) -> AsyncIterator[SseReader]:
    """Open /api/v1/events and read up to its `ready` event (the subscription is live by then).

    The frames before `ready` (events missed since a Last-Event-ID, or a `reset`) are kept in
    `reader.replayed`; `reader.ready_id` is where the stream started.
    """
    async with master.http.get(
        f"{master.url}/api/v1/events{query}", headers={**master.auth(), **(headers or {})}
    ) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/event-stream")
        reader = SseReader(response)
        first = await response.content.readline()
        assert first.startswith(b"retry:")
        while (fields := await reader.frame()).get("event") != "ready":
            reader.replayed.append(fields)
        reader.ready_id = fields["id"]
        yield reader


async def test_app_states_and_messages_arrive_filtered_by_topic(start_master: StartMaster) -> None:
    master = await start_master(drivers__tokens=f'["{TOKEN}"]')
    async with stream(master, "?topics=app.state,message.received") as reader:
        app = await start_app(master.url, "echo")
        state = await reader.event("app.state")
        assert state["topic"] == "app.state" and state["data"]["name"] == "echo"
        assert state["data"]["to"] == "paused"
        assert (await reader.event("app.state"))["data"]["to"] == "scheduling"
        driver = await SioDriver(master.url).connect(TOKEN)
        await driver.register("qq", "1")
        ack = await driver.send("hello there", sender={"id": "7", "name": "Ann"})
        received = await reader.event()
        # driver.attached was not asked for, so the next event is the message.
        assert received["_event"] == "message.received"
        assert received["data"]["id"] == ack["id"]
        assert received["data"]["content"] == "hello there"
        assert received["data"]["sender"] == {"id": "7", "name": "Ann"}
        await app.close()
        await driver.close()


async def test_log_lines_at_or_above_the_level_asked(start_master: StartMaster) -> None:
    master = await start_master()
    logger = logging.getLogger("kenkogo_master.tests.events")
    logger.setLevel(logging.DEBUG)  # the records exist; the stream's level must filter them
    try:
        async with stream(master, "?topics=log&level=warning") as reader:
            logger.info("an info line nobody asked for")
            logger.warning("disk %s is almost full", "/data")
            line = await reader.event()
            assert line["_event"] == "log.warning"
            assert line["data"]["message"] == "disk /data is almost full"
            assert line["data"]["logger"] == "kenkogo_master.tests.events"
            try:
                raise ValueError("boom")
            except ValueError:
                logger.exception("it failed")
            line = await reader.event()
            assert line["_event"] == "log.error"
            assert "ValueError: boom" in line["data"]["exception"]
        async with stream(master, "?topics=log&level=debug") as reader:
            logger.debug("now %d", 42)
            assert (await reader.event())["data"]["message"] == "now 42"
    finally:
        logger.setLevel(logging.NOTSET)


async def test_idle_streams_get_keep_alive_comments(start_master: StartMaster) -> None:
    master = await start_master(events__keepalive="0.1")
    async with stream(master, "?topics=nothing.here") as reader:
        with suppress(TimeoutError):
            await reader.frame(timeout=0.5)
        assert reader.comments.count("keep-alive") >= 2, reader.comments


async def test_a_reader_that_falls_behind_is_cut_off(start_master: StartMaster) -> None:
    master = await start_master(events__reader_queue_limit="10")
    bus = master.hub.bus
    async with stream(master, "?topics=burst") as reader:
        for n in range(50):  # all at once: the stream cannot write between them
            bus.publish("burst.tick", {"n": n})
        dropped = await reader.frame()
        assert dropped["event"] == "dropped"
        assert json.loads(dropped["data"]) == {"reason": "too_slow"}
        try:
            extra = await reader.frame(timeout=2)
        except EOFError:
            extra = None
        assert extra is None
    assert bus.subscribers() == 0
    # A reader that keeps up gets every event.
    async with stream(master, "?topics=burst") as reader:
        for n in range(5):
            bus.publish("burst.tick", {"n": n})
        assert [(await reader.event())["data"]["n"] for _ in range(5)] == [0, 1, 2, 3, 4]


async def test_bad_parameters_and_missing_token(start_master: StartMaster) -> None:
    master = await start_master()
    for query in ("?topics=Bad Topic", "?level=LOUD", "?since=yesterday"):
        status, body = await master.api("GET", f"/api/v1/events{query}")
        assert (status, body["code"]) == (400, "invalid_payload"), query
    async with master.http.get(f"{master.url}/api/v1/events") as response:
        assert response.status == 401


async def test_open_streams_do_not_hold_the_shutdown(start_master: StartMaster) -> None:
    master = await start_master()
    async with stream(master) as reader:
        await asyncio.wait_for(master.runner.cleanup(), 5)
        master.extra["stopped"] = True
        try:
            while True:
                await reader.frame(timeout=2)
        except (EOFError, aiohttp.ClientPayloadError):
            pass
    await master.http.close()


def _ticks(frames: list[dict[str, str]]) -> list[int]:
    return [json.loads(fields["data"])["data"]["n"] for fields in frames if "id" in fields]


async def test_a_reader_that_comes_back_gets_what_it_missed(start_master: StartMaster) -> None:
    master = await start_master()
    bus = master.hub.bus
    async with stream(master, "?topics=tick") as reader:
        bus.publish("tick.n", {"n": 1})
        first = await reader.frame()
        assert first["event"] == "tick.n" and first["id"].endswith(f".{bus.last_seq}")
    # Nobody reads now; the ring keeps recording for a reader that comes back.
    for n in (2, 3):
        bus.publish("tick.n", {"n": n})
    bus.publish("other.thing", {"n": 99})  # not asked for: not replayed
    bus.publish("tick.n", {"n": 4})
    async with stream(master, "?topics=tick", {"Last-Event-ID": first["id"]}) as reader:
        assert _ticks(reader.replayed) == [2, 3, 4]
        ids = [int(fields["id"].rsplit(".", 1)[1]) for fields in reader.replayed]
        assert ids == sorted(ids) and reader.ready_id.endswith(f".{bus.last_seq}")
        bus.publish("tick.n", {"n": 5})
        assert (await reader.event("tick.n"))["data"]["n"] == 5
    # The same through the query (a new EventSource cannot set the header); untyped frames.
    query = f"?topics=tick&typed=false&last_event_id={first['id']}"
    async with stream(master, query) as reader:
        assert _ticks(reader.replayed) == [2, 3, 4, 5]
        assert all("event" not in fields for fields in reader.replayed)
    # Resuming from `ready` alone (no event seen yet) misses nothing either.
    async with stream(master, "?topics=tick") as reader:
        ready = reader.ready_id
    bus.publish("tick.n", {"n": 6})
    async with stream(master, "?topics=tick", {"Last-Event-ID": ready}) as reader:
        assert _ticks(reader.replayed) == [6]


async def test_a_reader_told_to_start_over(start_master: StartMaster) -> None:
    master = await start_master(
        events__replay_size="3", events__replay_linger="0.3", events__keepalive="0.1"
    )
    bus = master.hub.bus
    async with stream(master, "?topics=tick") as reader:
        bus.publish("tick.n", {"n": 0})
        seen = (await reader.frame())["id"]
    for n in range(1, 6):  # more than the ring holds
        bus.publish("tick.n", {"n": n})
    for last_id, reason in (
        (seen, "too_old"),
        ("zz." + seen.split(".")[1], "restarted"),  # another run of the Master
        ("garbage", "restarted"),
    ):
        async with stream(master, "?topics=tick", {"Last-Event-ID": last_id}) as reader:
            [reset] = reader.replayed
            assert reset["event"] == "reset", last_id
            assert json.loads(reset["data"]) == {"reason": reason}
    # Once the last reader left long ago, nothing is recorded: a returning reader starts over.
    async with stream(master, "?topics=tick") as reader:
        bus.publish("tick.n", {"n": 7})
        seen = (await reader.frame())["id"]
    # (A server notices a reader gone at its next write: here a keep-alive.)
    for _ in range(50):
        await asyncio.sleep(0.1)
        if bus.subscribers() == 0:
            break
    await asyncio.sleep(0.5)
    bus.publish("tick.n", {"n": 8})  # unrecorded
    async with stream(master, "?topics=tick", {"Last-Event-ID": seen}) as reader:
        assert [fields["event"] for fields in reader.replayed] == ["reset"]
    # A malformed id in the query is bad input.
    for bad in ("nodot", "a.b", "x" * 41):
        status, body = await master.api("GET", f"/api/v1/events?last_event_id={bad}")
        assert (status, body["code"]) == (400, "invalid_payload"), bad
