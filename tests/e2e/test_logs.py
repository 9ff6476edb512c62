"""GET /api/v1/logs over the ring of a running Master: filters, pages, context, the live tail."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from tests.conftest import ADMIN_TOKEN, RunningMaster, StartMaster
from tests.e2e.test_events import stream
from tests.support.clients import WsApp

LOGGER = "kenkogo_master.tests.logs"


async def logs(master: RunningMaster, **query: Any) -> dict[str, Any]:
    """Return one page of GET /api/v1/logs, failing on anything but 200."""
    status, body = await master.api("GET", "/api/v1/logs", params=query)
    assert status == 200, body
    return body


async def mine(master: RunningMaster, **query: Any) -> list[dict[str, Any]]:
    """Return every record of this test's logger, walking the pages."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        page = await logs(master, logger=LOGGER, **query, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        assert page["count"] == len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the pages never ended")


async def test_records_are_paged_newest_first_with_every_filter(
    start_master: StartMaster,
) -> None:
    master = await start_master()
    log = logging.getLogger(LOGGER)
    log.setLevel(logging.DEBUG)
    try:
        log.debug("quiet %d", 1)
        log.info("disk %s is filling", "/data")
        log.warning("Disk %s is almost FULL", "/data")
        await asyncio.sleep(0.01)  # times are in milliseconds: keep the two sides apart
        before_error = int(time.time() * 1000)
        await asyncio.sleep(0.01)
        try:
            raise ValueError("the needle in the traceback")
        except ValueError:
            log.exception("a task failed")
        logging.getLogger(LOGGER + ".child").info("from a child logger")
        logging.getLogger(LOGGER + "_sibling").info("from a sibling, not a child")
    finally:
        log.setLevel(logging.NOTSET)

    everything = await mine(master)
    assert [item["message"] for item in everything] == [
        "from a child logger",
        "a task failed",
        "Disk /data is almost FULL",
        "disk /data is filling",
        "quiet 1",
    ]
    assert [item["seq"] for item in everything] == sorted(
        (item["seq"] for item in everything), reverse=True
    )
    assert {item["source"] for item in everything} == {"memory"}
    failed = everything[1]
    assert failed["level"] == "ERROR" and "the needle in the traceback" in failed["exception"]
    assert failed["time"].endswith("Z") and failed["time_ms"] >= before_error

    def messages(items: list[dict[str, Any]]) -> list[str]:
        return [item["message"] for item in items]

    assert messages(await mine(master, level="warning")) == [
        "a task failed",
        "Disk /data is almost FULL",
    ]
    assert messages(await mine(master, q="disk /DATA")) == [
        "Disk /data is almost FULL",
        "disk /data is filling",
    ]
    assert messages(await mine(master, q="NEEDLE")) == ["a task failed"]  # in the traceback
    assert messages(await mine(master, since=before_error)) == [
        "from a child logger",
        "a task failed",
    ]
    assert messages(await mine(master, until=before_error, level="INFO")) == [
        "Disk /data is almost FULL",
        "disk /data is filling",
    ]
    sibling = (await logs(master, logger=LOGGER + "_sibling"))["items"]
    assert messages(sibling) == ["from a sibling, not a child"]

    # One record a page: the cursor walks every record once, in the same order.
    walked: list[str] = []
    cursor = None
    while True:
        page = await logs(master, logger=LOGGER, limit=1, **({"cursor": cursor} if cursor else {}))
        walked += messages(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == messages(everything)
    whole = await logs(master)
    assert whole["ring_size"] == 10_000 and whole["ring_held"] >= len(everything)


async def test_records_carry_the_app_and_peer_they_are_about(start_master: StartMaster) -> None:
    master = await start_master()
    app = await WsApp.connect(master.http, master.url)
    answer = await app.request("register", {"name": "echo", "version": "1.0.0"})
    assert answer["data"]["success"], answer
    app_id = answer["data"]["id"]
    await app.ws.close()

    async def about_app() -> list[dict[str, Any]]:
        return (await logs(master, app_id=app_id))["items"]

    for _ in range(100):
        items = await about_app()
        if any("disconnected" in item["message"] for item in items):
            break
        await asyncio.sleep(0.05)
    assert items and all(item["app_id"] == app_id for item in items)
    assert {item["remote"] for item in items} == {"127.0.0.1"}
    assert any("-> disconnected" in item["message"] for item in items), items
    by_remote = (await logs(master, remote="127.0.0.1", app_id=app_id))["items"]
    assert by_remote == items
    assert (await logs(master, app_id="no-such-app"))["items"] == []


async def test_secrets_never_reach_the_ring(start_master: StartMaster) -> None:
    master = await start_master(drivers__tokens='["configured-driver-secret"]')
    log = logging.getLogger(LOGGER)
    log.warning("headers %s", {"Authorization": "Bearer abc123-def456", "Cookie": "a=b"})
    log.warning("url /onebot/v11/ws?access_token=hunter2-token&x=1")
    log.warning("the api token is %s and a driver's %s", ADMIN_TOKEN, "configured-driver-secret")
    log.warning("login %s", {"name": "admin", "password": "correct horse battery"})
    text = str(await mine(master))
    for secret in (
        "abc123-def456",
        "hunter2-token",
        ADMIN_TOKEN,
        "configured-driver-secret",
        "correct horse",
    ):
        assert secret not in text
    assert "access_token=***&x=1" in text and "the api token is *** and" in text


async def test_bad_parameters_are_answered_with_code_and_message(master: RunningMaster) -> None:
    for query in (
        {"level": "LOUD"},
        {"limit": "0"},
        {"limit": "1001"},
        {"cursor": "x12"},
        {"cursor": "r-1"},
        {"since": "yesterday"},
        {"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
        {"q": ""},
        {"logger": "x" * 201},
        {"unknown": "1"},
    ):
        status, body = await master.api("GET", "/api/v1/logs", params=query)
        assert status == 400, (query, body)
        assert body["code"] == "invalid_payload" and body["message"], body


async def test_logs_are_for_the_admin_scope(master: RunningMaster) -> None:
    body = {"name": "r", "scope": "read"}
    status, created = await master.api("POST", "/api/v1/tokens", json=body)
    assert status == 201
    reader = master.auth(created["token"])
    for path in ("/api/v1/logs", "/api/v1/logs/files", "/api/v1/logs/files/master.log"):
        async with master.http.get(master.url + path, headers=reader) as response:
            assert response.status == 403, path
            assert (await response.json())["code"] == "forbidden"
    url = master.url + "/api/v1/events?topics=log"
    async with master.http.get(url, headers=reader) as response:
        assert response.status == 403


async def test_without_files_the_listing_says_so(master: RunningMaster) -> None:
    status, body = await master.api("GET", "/api/v1/logs/files")
    assert status == 200 and body == {"items": [], "count": 0, "enabled": False}
    status, body = await master.api("GET", "/api/v1/logs/files/master.log")
    assert status == 404 and body["code"] == "not_found"


async def test_the_live_log_topic_takes_the_same_filters(start_master: StartMaster) -> None:
    master = await start_master()
    log = logging.getLogger(LOGGER)
    other = logging.getLogger("kenkogo_master.tests.elsewhere")
    query = f"?topics=log&level=info&logger={LOGGER}&q=wanted"
    async with stream(master, query) as reader:
        other.warning("wanted, but from another logger")
        log.warning("not this one")
        log.debug("wanted, but below the level")
        log.warning("this is WANTED", extra={"app_id": "app-7"})
        event = await reader.event()
        assert event["_event"] == "log.warning"
        data = event["data"]
        assert data["message"] == "this is WANTED" and data["logger"] == LOGGER
        assert data["app_id"] == "app-7" and data["level"] == "WARNING"
    async with stream(master, "?topics=log&app_id=app-9") as reader:
        log.warning("about app 8", extra={"app_id": "app-8"})
        log.warning("about app 9", extra={"app_id": "app-9"})
        assert (await reader.event())["data"]["message"] == "about app 9"
    status, body = await master.api("GET", "/api/v1/events", params={"q": ""})
    assert status == 400 and body["code"] == "invalid_payload"
