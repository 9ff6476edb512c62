"""A reply the Master acked to its app is sent to the chat, even when the Master crashes first."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.flow_clients import SioDriver, start_app
from tests.support.process import DRIVER_TOKEN, MakeMaster, RestartableMaster
from tests.support.waiting import eventually


async def driver_gone(master: RestartableMaster, self_id: str) -> None:
    """Wait until the Master lists the driver `self_id` as not connected."""
    await eventually(
        lambda: master.api("GET", "/api/v1/drivers"),
        lambda answer: any(
            item["self_id"] == self_id and item.get("live") is False for item in answer[1]["items"]
        ),
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize("driver_at_the_kill", ["away", "silent"])
async def test_a_reply_acked_before_a_crash_is_sent_after_the_restart(
    restartable_master: MakeMaster, closing: list[Any], driver_at_the_kill: str
) -> None:
    """An app's reply is acked; the Master is killed before the driver confirmed sending it.

    The driver was away at the time (the reply waited for it), or had the action and had not
    answered yet. Once the Master and the driver are back, the driver receives the reply (same
    id) and the reply ends up `sent`.
    """
    master = restartable_master(apps__ack_timeout="30")
    await master.start()
    driver = await SioDriver(master.url).connect(DRIVER_TOKEN)
    closing.append(driver)
    assert (await driver.register("qq", "10001"))["success"]
    echo = await start_app(master.url, "echo")
    closing.append(echo)
    ack = await driver.send("/echo hi", pid="in-1")
    message = await echo.next_message()
    assert message["id"] == ack["id"]
    never = asyncio.Event()
    if driver_at_the_kill == "away":
        await driver.close()
        await driver_gone(master, "10001")
    else:

        async def silent(action: dict[str, Any]) -> Any:
            await never.wait()  # the platform takes its time: no answer before the crash

        driver.answer = silent

    try:
        reply = await echo.call("reply", {"message_id": message["id"], "content": "hello back"})
        assert reply["success"] is True, reply
        if driver_at_the_kill == "silent":
            assert (await driver.next_action())["id"] == reply["id"]
        await master.kill()
    finally:
        never.set()

    await master.start()
    again = await SioDriver(master.url).connect(DRIVER_TOKEN)
    closing.append(again)
    assert (await again.register("qq", "10001"))["success"]
    try:
        action = await again.next_action(timeout=10)
    except TimeoutError:
        pytest.fail(f"the reply {reply['id']}, acked before the crash, never reached the driver")
    assert (action["id"], action["content"], action["reply_to"]) == (
        reply["id"],
        "hello back",
        "in-1",
    )
    _, detail = await eventually(
        lambda: master.api("GET", f"/api/v1/messages/{message['id']}"),
        lambda answer: [item["status"] for item in answer[1]["replies"]] == ["sent"],
    )
    assert [item["id"] for item in detail["replies"]] == [reply["id"]]
