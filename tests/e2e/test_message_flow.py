"""A driver and apps exchange messages over real sockets: routing, acks, replies, REST."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import RunningMaster, StartMaster
from tests.support.flow_clients import FlowApp, SioDriver, start_app

TOKEN = "driver-token"


@pytest.fixture
async def flow_master(start_master: StartMaster) -> RunningMaster:
    """A Master that accepts the test driver token."""
    return await start_master(drivers__tokens=f'["{TOKEN}"]')


@pytest.fixture
async def driver(flow_master: RunningMaster) -> Any:
    """A registered driver for platform qq."""
    client = await SioDriver(flow_master.url).connect(TOKEN)
    ack = await client.register("qq", "10001", name="bot")
    assert ack["success"], ack
    yield client
    await client.close()


async def test_a_message_reaches_an_app_and_its_reply_reaches_the_driver(
    flow_master: RunningMaster, driver: SioDriver
) -> None:
    app = await start_app(flow_master.url, "echo", lambda m: {"reply": "echo " + m["content"]})
    ack = await driver.send("hello", pid="p-1", time="2026-11-22T08:00:00Z", locale="zh-Hans")
    assert ack["success"] is True and "duplicate" not in ack
    message = await app.next_message()
    assert message["id"] == ack["id"]
    assert message["content"] == "hello"
    assert message["segments"] == [{"type": "text", "data": {"text": "hello"}}]
    assert message["platform"] == "qq"
    assert message["chat"] == {"type": "group", "id": "100"}
    assert message["sender"] == {"id": "200", "name": "Alice"}
    assert message["time"] == "2026-11-22T08:00:00Z"
    assert message["locale"] == "zh_Hans"
    assert message["attempt"] == 1
    assert message["traceparent"].startswith("00-") and len(message["traceparent"]) == 55
    action = await driver.next_action()
    assert action["type"] == "send_message"
    assert action["content"] == "echo hello"
    assert action["chat"] == {"type": "group", "id": "100"}
    assert action["reply_to"] == "p-1"
    await app.close()
