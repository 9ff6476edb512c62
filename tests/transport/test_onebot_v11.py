"""/onebot/v11/ws over real sockets: handshake, tokens, roles, and frames good and bad."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from kenkogo_master.hub.drivers import OutboundAction
from kenkogo_master.keys import ENGINE
from kenkogo_master.transport.onebot_v11 import ONEBOT
from tests.conftest import RunningMaster, StartMaster
from tests.support.onebot_client import OneBotClient, connect_headers, refused, ws_url

TOKEN = "onebot-secret"


async def eventually(check: Any, timeout: float = 5) -> None:
    """Wait until `check()` is true."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


def onebot_drivers(master: RunningMaster) -> list[Any]:
    return [s for s in master.hub.drivers.live() if s.platform == "qq"]


async def stored(master: RunningMaster, platform_message_id: str) -> Any:
    """Return the messages row a OneBot message_id was stored as, or None."""
    query = text("SELECT * FROM messages WHERE platform_message_id = :pmid")
    async with master.app[ENGINE].connect() as conn:
        return (await conn.execute(query, {"pmid": platform_message_id})).one_or_none()


async def test_group_and_private_messages_in_both_formats_are_stored(
    master: RunningMaster,
) -> None:
    client = await OneBotClient.connect(master.http, master.url, self_id=10001)
    counters = master.app[ONEBOT].counters
    await client.group_message(
        123456, 42, "[CQ:face,id=14]早 &amp; [CQ:at,qq=all]", message_id=1001, card="Ali"
    )
    await client.private_message(
        42,
        [{"type": "text", "data": {"text": "hi "}}, {"type": "image", "data": {"file": "a"}}],
        message_id="m-2",
        nickname="Bob",
    )
    await eventually(lambda: counters.messages == 2)
    group = await stored(master, "1001")
    assert (group.platform, group.chat_type, group.chat_id) == ("qq", "group", "123456")
    assert (group.sender_id, group.sender_name) == ("42", "Ali")
    assert group.content == "早 & "
    segments = group.segments if isinstance(group.segments, list) else json.loads(group.segments)
    assert segments == [
        {"type": "face", "data": {"id": "14"}},
        {"type": "text", "data": {"text": "早 & "}},
        {"type": "at", "data": {"qq": "all"}},
    ]
    private = await stored(master, "m-2")
    assert (private.chat_type, private.chat_id, private.sender_name) == ("private", "42", "Bob")
    assert private.content == "hi "
    assert private.driver_id == onebot_drivers(master)[0].id
    await client.close()


async def test_a_universal_client_becomes_a_qq_driver_until_it_disconnects(
    master: RunningMaster,
) -> None:
    client = await OneBotClient.connect(master.http, master.url, self_id=10001)
    await eventually(lambda: len(onebot_drivers(master)) == 1)
    session = onebot_drivers(master)[0]
    assert session.self_id == "10001"
    assert session.peer.transport == "onebot"
    await client.close()
    await eventually(lambda: not onebot_drivers(master))


async def test_a_reconnecting_account_keeps_its_driver_id(master: RunningMaster) -> None:
    first = await OneBotClient.connect(master.http, master.url, self_id=10001)
    await eventually(lambda: len(onebot_drivers(master)) == 1)
    driver_id = onebot_drivers(master)[0].id
    await first.close()
    await eventually(lambda: not onebot_drivers(master))
    second = await OneBotClient.connect(master.http, master.url, self_id=10001)
    await eventually(lambda: len(onebot_drivers(master)) == 1)
    assert onebot_drivers(master)[0].id == driver_id
    await second.close()


@pytest.mark.parametrize(
    ("headers", "query", "status", "code"),
    [
        ({}, "", 401, "unauthorized"),
        ({"Authorization": "Bearer wrong-token"}, "", 403, "forbidden"),
        ({}, "?access_token=wrong-token", 403, "forbidden"),
        ({"Authorization": "Basic b25lYm90LXNlY3JldA=="}, "", 401, "unauthorized"),
    ],
)
async def test_a_missing_or_wrong_token_is_refused_before_upgrading(
    start_master: StartMaster, headers: dict[str, str], query: str, status: int, code: str
) -> None:
    master = await start_master(onebot__access_token=TOKEN)
    got, body = await refused(master.http, master.url, {**connect_headers(), **headers}, query)
    assert got == status
    assert body["code"] == code
    assert body["message"]
    assert not onebot_drivers(master)


async def test_the_token_is_accepted_in_the_header_or_the_query(
    start_master: StartMaster,
) -> None:
    master = await start_master(onebot__access_token=TOKEN)
    by_header = await OneBotClient.connect(master.http, master.url, self_id=1, token=TOKEN)
    by_query = await OneBotClient.connect(
        master.http, master.url, self_id=2, token=TOKEN, token_in_query=True
    )
    await eventually(lambda: {s.self_id for s in onebot_drivers(master)} == {"1", "2"})
    await by_header.close()
    await by_query.close()


@pytest.mark.parametrize("role", ["API", "Event", "", None])
async def test_only_the_universal_role_is_accepted(master: RunningMaster, role: str | None) -> None:
    status, body = await refused(master.http, master.url, connect_headers(role=role))
    assert status == 400
    assert body["code"] == "invalid_payload"
    assert "X-Client-Role" in body["message"]


async def test_the_role_is_read_case_insensitively(master: RunningMaster) -> None:
    ws = await master.http.ws_connect(ws_url(master.url), headers=connect_headers(role="universal"))
    await eventually(lambda: len(onebot_drivers(master)) == 1)
    await ws.close()


@pytest.mark.parametrize("self_id", [None, "", "abc", "12x", "99999999999999999999999"])
async def test_a_numeric_self_id_is_required(master: RunningMaster, self_id: str | None) -> None:
    status, body = await refused(master.http, master.url, connect_headers(self_id=self_id))
    assert status == 400
    assert body["code"] == "invalid_payload"
    assert "X-Self-ID" in body["message"]


async def test_a_plain_http_request_is_answered_with_json(master: RunningMaster) -> None:
    async with master.http.get(master.url + "/onebot/v11/ws", headers=connect_headers()) as resp:
        assert resp.status == 400
        assert (await resp.json())["code"] == "invalid_payload"


async def test_garbage_frames_are_counted_and_the_connection_survives(
    master: RunningMaster,
) -> None:
    client = await OneBotClient.connect(master.http, master.url)
    counters = master.app[ONEBOT].counters
    garbage = [
        "not json at all",
        "[1, 2, 3]",
        '{"post_type": 5}',
        '{"hello": "world"}',
        '{"post_type": "message", "message_type": "group", "time": 1, "self_id": 10001}',
        '{"post_type": "message", "message_type": "private", "time": 1, "self_id": 10001, '
        '"message_id": 1, "user_id": "alice", "message": "hi"}',
        '{"post_type": "message", "message_type": "private", "time": 1, "self_id": 10001, '
        '"message_id": 1, "user_id": 5, "message": [{"type": 3}]}',
        '{"post_type": "meta_event", "meta_event_type": "heartbeat", "time": 1, '
        '"self_id": 10001, "interval": -5}',
    ]
    for frame in garbage:
        await client.send_raw(frame)
    await client.ws.send_bytes(b"\x00\x01binary")
    await eventually(lambda: counters.malformed == len(garbage) + 1)
    # Still connected and still heard: a good message after the garbage is ingested.
    await client.private_message(42, "still here")
    await eventually(lambda: counters.messages == 1)
    assert not client.ws.closed
    assert len(onebot_drivers(master)) == 1
    await client.close()


async def test_notices_and_requests_are_stored_with_their_kind(master: RunningMaster) -> None:
    client = await OneBotClient.connect(master.http, master.url, self_id=10001)
    counters = master.app[ONEBOT].counters
    increase = {
        "time": 1,
        "self_id": 10001,
        "post_type": "notice",
        "notice_type": "group_increase",
        "sub_type": "approve",
        "group_id": 5566,
        "user_id": 777,
        "operator_id": 1,
    }
    await client.send(increase)
    await client.send(increase)  # a notice has no id: each one is new
    request = {
        "time": 1,
        "self_id": 10001,
        "post_type": "request",
        "request_type": "friend",
        "user_id": 888,
        "comment": "add me",
        "flag": "req-1",
    }
    await client.send(request)
    await client.send(request)  # the same flag: one request, stored once
    await eventually(lambda: counters.notices == 4)  # the repeated request as a duplicate
    query = text("SELECT * FROM messages WHERE kind != 'message' ORDER BY kind, id")
    async with master.app[ENGINE].connect() as conn:
        rows = (await conn.execute(query)).all()
    assert [row.kind for row in rows] == ["notice.group_increase"] * 2 + ["request.friend"]
    notice, _, friend = rows
    assert (notice.chat_type, notice.chat_id, notice.sender_id) == ("group", "5566", "777")
    detail = notice.detail if isinstance(notice.detail, dict) else json.loads(notice.detail)
    assert detail["notice_type"] == "group_increase" and detail["operator_id"] == 1
    assert (friend.platform_message_id, friend.chat_type, friend.chat_id) == (
        "request:req-1",
        "private",
        "888",
    )
    assert friend.content == "add me" and friend.status == "unrouted"
    await client.close()


async def test_bad_notices_are_malformed_frames(master: RunningMaster) -> None:
    client = await OneBotClient.connect(master.http, master.url)
    counters = master.app[ONEBOT].counters
    await client.send({"time": 1, "self_id": 10001, "post_type": "notice"})  # no notice_type
    await client.send(  # a request without the flag it is answered with
        {
            "time": 1,
            "self_id": 10001,
            "post_type": "request",
            "request_type": "friend",
            "user_id": 1,
        }
    )
    await client.send(  # a kind subscriptions could not name
        {"time": 1, "self_id": 10001, "post_type": "notice", "notice_type": "Group Increase"}
    )
    await eventually(lambda: counters.malformed == 3)
    assert counters.notices == 0 and not client.ws.closed
    await client.close()


async def test_own_messages_and_unknown_responses_are_ignored(master: RunningMaster) -> None:
    client = await OneBotClient.connect(master.http, master.url)
    counters = master.app[ONEBOT].counters
    # NapCat reports the bot's own messages as "message_sent"; taking them in would loop.
    await client.send(
        {
            "time": 1,
            "self_id": 10001,
            "post_type": "message_sent",
            "message_type": "group",
            "message_id": 9,
            "group_id": 1,
            "user_id": 10001,
            "message": "echo",
        }
    )
    await client.send({"status": "ok", "retcode": 0, "data": None, "echo": "nobody-asked"})
    await eventually(lambda: counters.ignored == 1 and counters.unmatched == 1)
    assert counters.malformed == 0 and counters.messages == 0
    await client.close()


async def test_heartbeats_keep_the_driver_alive(master: RunningMaster) -> None:
    client = await OneBotClient.connect(master.http, master.url)
    await eventually(lambda: len(onebot_drivers(master)) == 1)
    session = onebot_drivers(master)[0]
    await asyncio.sleep(0.05)
    before = session.last_seen
    await client.heartbeat(interval_ms=5000)
    await eventually(lambda: session.last_seen > before)
    await client.close()


async def test_heartbeats_and_lifecycle_events_are_accepted(master: RunningMaster) -> None:
    client = await OneBotClient.connect(master.http, master.url)
    counters = master.app[ONEBOT].counters
    for _ in range(3):
        await client.heartbeat(interval_ms=5000)
    await client.lifecycle("enable")
    await eventually(lambda: counters.frames == 5)  # the connect lifecycle, 3 beats, enable
    assert counters.malformed == 0 and counters.ignored == 0
    await client.close()


async def test_shutdown_closes_open_connections(start_master: StartMaster) -> None:
    master = await start_master()
    client = await OneBotClient.connect(master.http, master.url)
    await eventually(lambda: len(onebot_drivers(master)) == 1)
    from tests.conftest import stop_master

    async with asyncio.timeout(10):
        await stop_master(master)
        await client.closed.wait()


async def test_an_oversized_frame_closes_only_that_connection(master: RunningMaster) -> None:
    big = await OneBotClient.connect(master.http, master.url, self_id=1)
    small = await OneBotClient.connect(master.http, master.url, self_id=2)
    with pytest.raises((aiohttp.ClientError, ConnectionError)):
        await big.send_raw("x" * (5 * 1024 * 1024))
        await big.closed.wait()
        await big.send_raw("{}")
    await eventually(lambda: {s.self_id for s in onebot_drivers(master)} == {"2"})
    await small.close()


async def test_an_api_response_is_read_while_messages_wait_to_be_stored(
    master: RunningMaster, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await OneBotClient.connect(master.http, master.url, self_id=10001)
    counters = master.app[ONEBOT].counters
    release = asyncio.Event()
    hub_class = type(master.hub)
    real_ingest = hub_class.ingest

    async def held_ingest(self: Any, *args: Any, **kwargs: Any) -> Any:
        await release.wait()  # as when the scheduler holds a driver back
        return await real_ingest(self, *args, **kwargs)

    monkeypatch.setattr(hub_class, "ingest", held_ingest)
    await eventually(lambda: onebot_drivers(master))
    try:
        for n in range(3):
            await client.group_message(123456, 42, f"held {n}", message_id=3000 + n)
        chat = {"type": "group", "id": "123456"}
        action = OutboundAction("r-1", "send_message", chat, "hi", [], None)
        result = asyncio.create_task(onebot_drivers(master)[0].peer.deliver_action(action))
        call = await client.next_action()  # the client answers it at once
        assert call["action"] == "send_group_msg"
        outcome = await asyncio.wait_for(result, 2)
        assert outcome.success
        assert counters.messages == 0  # still held, yet the answer went through
    finally:
        release.set()
    await eventually(lambda: counters.messages == 3)
    assert [await stored(master, str(3000 + n)) is not None for n in range(3)] == [True] * 3
    await client.close()
