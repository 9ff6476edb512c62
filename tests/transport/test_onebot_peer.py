"""OneBotPeer: replies become send_*_msg calls, answered by echo, failing cleanly otherwise."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from kenkogo_master.hub.drivers import OutboundAction
from kenkogo_master.protocol.onebot import ApiResponse
from kenkogo_master.transport.onebot_peer import OneBotPeer


class FakeSocket:
    """Records frames a peer sends, like an open aiohttp WebSocketResponse."""

    def __init__(self) -> None:
        self.closed = False
        self.sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def send_str(self, text: str) -> None:
        if self.closed:
            raise ConnectionResetError("closed")
        self.sent.put_nowait(json.loads(text))

    async def close(self) -> bool:
        self.closed = True
        return True


def make_peer(timeout: float = 2.0, quote: bool = False) -> tuple[OneBotPeer, FakeSocket]:
    ws = FakeSocket()
    return OneBotPeer(ws, "127.0.0.1", action_timeout=timeout, quote_replies=quote), ws  # type: ignore[arg-type]


def reply(
    chat_type: str = "group",
    chat_id: str = "123456",
    content: str = "晴 25°C",
    segments: list[dict[str, Any]] | None = None,
    reply_to: str | None = "77",
) -> OutboundAction:
    return OutboundAction(
        id="r-1",
        type="send_message",
        chat={"type": chat_type, "id": chat_id},
        content=content,
        segments=segments or [],
        reply_to=reply_to,
    )


def answer(frame: dict[str, Any], **fields: Any) -> ApiResponse:
    body = {"status": "ok", "retcode": 0, "data": None, "echo": frame["echo"], **fields}
    return ApiResponse.model_validate(body)


async def test_group_reply_is_send_group_msg_and_records_the_message_id() -> None:
    peer, ws = make_peer()
    task = asyncio.create_task(peer.deliver_action(reply()))
    frame = await asyncio.wait_for(ws.sent.get(), 1)
    assert frame["action"] == "send_group_msg"
    assert frame["params"] == {
        "group_id": 123456,
        "message": [{"type": "text", "data": {"text": "晴 25°C"}}],
    }
    assert isinstance(frame["echo"], str) and frame["echo"]
    assert peer.resolve(answer(frame, data={"message_id": -2147483000}))
    result = await task
    assert result.success
    assert result.platform_message_id == "-2147483000"
    assert peer.pending == 0


async def test_private_reply_is_send_private_msg_to_the_user() -> None:
    peer, ws = make_peer()
    task = asyncio.create_task(peer.deliver_action(reply("private", "42", "hi")))
    frame = await asyncio.wait_for(ws.sent.get(), 1)
    assert frame["action"] == "send_private_msg"
    assert frame["params"]["user_id"] == 42
    assert "group_id" not in frame["params"]
    peer.resolve(answer(frame, data={"message_id": 5}))
    assert (await task).platform_message_id == "5"


async def test_segments_are_sent_instead_of_the_plain_text() -> None:
    peer, ws = make_peer()
    segments = [
        {"type": "at", "data": {"qq": 456}},
        {"type": "text", "data": {"text": " look"}},
        {"type": "image", "data": {"file": "https://example.org/a.png"}},
    ]
    task = asyncio.create_task(peer.deliver_action(reply(content=" look", segments=segments)))
    frame = await asyncio.wait_for(ws.sent.get(), 1)
    assert frame["params"]["message"] == [
        {"type": "at", "data": {"qq": "456"}},
        {"type": "text", "data": {"text": " look"}},
        {"type": "image", "data": {"file": "https://example.org/a.png"}},
    ]
    peer.resolve(answer(frame, data={"message_id": 1}))
    assert (await task).success


async def test_quoting_puts_a_reply_segment_first_in_groups_only() -> None:
    peer, ws = make_peer(quote=True)
    group = asyncio.create_task(peer.deliver_action(reply(reply_to="77")))
    frame = await asyncio.wait_for(ws.sent.get(), 1)
    assert frame["params"]["message"][0] == {"type": "reply", "data": {"id": "77"}}
    peer.resolve(answer(frame, data={"message_id": 1}))
    await group
    private = asyncio.create_task(peer.deliver_action(reply("private", "42", reply_to="78")))
    frame = await asyncio.wait_for(ws.sent.get(), 1)
    assert [s["type"] for s in frame["params"]["message"]] == ["text"]
    peer.resolve(answer(frame, data={"message_id": 2}))
    await private


async def test_concurrent_calls_are_matched_by_echo_in_any_order() -> None:
    peer, ws = make_peer()
    tasks = [
        asyncio.create_task(peer.deliver_action(reply(chat_id=str(100 + i)))) for i in range(3)
    ]
    frames = [await asyncio.wait_for(ws.sent.get(), 1) for _ in range(3)]
    assert len({f["echo"] for f in frames}) == 3
    for frame in reversed(frames):
        peer.resolve(answer(frame, data={"message_id": frame["params"]["group_id"]}))
    results = await asyncio.gather(*tasks)
    assert [r.platform_message_id for r in results] == ["100", "101", "102"]


async def test_a_failed_response_carries_status_retcode_and_wording() -> None:
    peer, ws = make_peer()
    task = asyncio.create_task(peer.deliver_action(reply()))
    frame = await asyncio.wait_for(ws.sent.get(), 1)
    peer.resolve(answer(frame, status="failed", retcode=100, wording="群已被禁言"))
    result = await task
    assert not result.success
    assert result.platform_message_id is None
    assert result.error is not None
    assert result.error["code"] == "action_failed"
    assert result.error["retcode"] == 100
    assert result.error["status"] == "failed"
    assert "群已被禁言" in result.error["message"]


async def test_async_status_is_a_success_without_a_message_id() -> None:
    peer, ws = make_peer()
    task = asyncio.create_task(peer.deliver_action(reply()))
    frame = await asyncio.wait_for(ws.sent.get(), 1)
    peer.resolve(answer(frame, status="async", retcode=1))
    result = await task
    assert result.success and result.platform_message_id is None


async def test_no_response_in_time_fails_and_a_late_one_is_ignored() -> None:
    peer, ws = make_peer(timeout=0.1)
    result = await peer.deliver_action(reply())
    assert not result.success
    assert result.error is not None and result.error["code"] == "driver_unavailable"
    frame = ws.sent.get_nowait()
    assert not peer.resolve(answer(frame, data={"message_id": 1}))
    assert peer.pending == 0


async def test_losing_the_connection_fails_waiting_calls_at_once() -> None:
    peer, ws = make_peer(timeout=30)
    task = asyncio.create_task(peer.deliver_action(reply()))
    await asyncio.wait_for(ws.sent.get(), 1)
    peer.connection_lost()
    result = await asyncio.wait_for(task, 1)
    assert not result.success
    assert result.error is not None and result.error["code"] == "driver_unavailable"


async def test_a_closed_peer_fails_without_sending() -> None:
    peer, ws = make_peer()
    await peer.close()
    result = await peer.deliver_action(reply())
    assert not result.success
    assert result.error is not None and result.error["code"] == "driver_unavailable"
    assert ws.sent.empty()


async def test_unsendable_targets_fail_as_invalid_without_sending() -> None:
    peer, ws = make_peer()
    for action in (
        reply(chat_type="channel"),
        reply(chat_id="not-a-number"),
        reply(content="", segments=[]),
    ):
        result = await peer.deliver_action(action)
        assert not result.success
        assert result.error is not None and result.error["code"] == "invalid_payload"
    assert ws.sent.empty()
