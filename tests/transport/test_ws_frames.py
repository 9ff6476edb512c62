"""WebSocket frames written by the Master: RFC 6455 headers for every payload size."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

from kenkogo_master.transport.ws_frames import FrameBatch, frame
from tests.conftest import StartMaster
from tests.support.flow_clients import SioDriver, event, start_app

TOKEN = "driver-token"


def test_short_text_has_a_two_byte_header() -> None:
    assert frame("42[]") == b"\x81\x04" + b"42[]"


def test_binary_payloads_use_the_binary_opcode() -> None:
    assert frame(b"\x00\x01") == b"\x82\x02\x00\x01"


def test_a_payload_of_126_bytes_or_more_carries_a_16_bit_length() -> None:
    data = frame("x" * 126)
    assert data[:4] == b"\x81\x7e" + struct.pack("!H", 126)
    assert len(data) == 4 + 126


def test_a_payload_of_64_kib_or_more_carries_a_64_bit_length() -> None:
    text = "二" * 30_000  # 90 000 bytes of UTF-8
    data = frame(text)
    assert data[:10] == b"\x81\x7f" + struct.pack("!Q", 90_000)
    assert data[10:].decode() == text


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def is_closing(self) -> bool:
        return False

    def write(self, data: bytes) -> None:
        self.writes.append(data)


class _Protocol:
    writing_paused = False


async def test_frames_of_one_iteration_leave_in_one_write_in_order() -> None:
    transport = _Transport()
    batch = FrameBatch(transport, _Protocol())  # type: ignore[arg-type]
    for text in ("a", "b", "c"):
        await batch.send(text)
    assert transport.writes == []
    await asyncio.sleep(0)
    assert transport.writes == [frame("a") + frame("b") + frame("c")]


async def test_messages_of_every_frame_size_reach_an_app_intact(start_master: StartMaster) -> None:
    master = await start_master(drivers__tokens=f'["{TOKEN}"]', limits__max_payload="200000")
    driver = await SioDriver(master.url).connect(TOKEN)
    app = await start_app(master.url, "sizes")
    try:
        assert (await driver.register())["success"]
        contents = ["short", "x" * 300, "二" * 30_000]
        for n, content in enumerate(contents):
            ack: Any = await driver.call("event", event(content, pid=f"p-{n}"))
            assert ack["success"], ack
        received = [(await app.next_message())["content"] for _ in contents]
        assert received == contents
    finally:
        await app.close()
        await driver.close()
