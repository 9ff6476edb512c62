"""A clean stop (SIGTERM: `docker stop`, an upgrade, Ctrl-C) hands its work to the next start."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import pytest
from socketio.exceptions import SocketIOError

from tests.support.flow_clients import FlowApp, SioDriver, start_app
from tests.support.process import DRIVER_TOKEN, MakeMaster

STOP_GRACE = 5.0  # [apps] stop_grace, by default: how long apps get to ack what they hold
SETTINGS = {"apps__ack_timeout": "30", "apps__recovery_delay": "1"}


async def holding_app(url: str, name: str, **fields: Any) -> FlowApp:
    """Start an app that receives messages and never acknowledges them."""
    app = await start_app(url, name, **fields)
    app.answer = app.never_ack
    return app


@pytest.mark.timeout(60)
async def test_a_message_held_at_a_clean_stop_is_delivered_again_after_the_restart(
    restartable_master: MakeMaster, closing: list[Any]
) -> None:
    """An app holds a message when the Master is stopped; once both are back, it gets it again."""
    master = restartable_master(**SETTINGS)
    await master.start()
    driver = await SioDriver(master.url).connect(DRIVER_TOKEN)
    closing.append(driver)
    assert (await driver.register())["success"]
    slow = await holding_app(master.url, "slow")
    closing.append(slow)
    ack = await driver.send("job", pid="job-1")
    assert ack["success"] is True, ack
    assert (await slow.next_message())["id"] == ack["id"]

    started = asyncio.get_running_loop().time()
    code = await master.terminate(timeout=STOP_GRACE + 5)
    took = asyncio.get_running_loop().time() - started

    assert code == 0, master.text
    print(f"the stop took {took:.1f} s")
    await master.start()
    back = await start_app(master.url, "slow")  # a new connection under the same name
    closing.append(back)
    again = await back.receive_ids([ack["id"]], timeout=10)
    assert [(message["id"], message["content"]) for message in again] == [(ack["id"], "job")]


@pytest.mark.timeout(60)
async def test_events_during_a_clean_stop_are_refused_or_acked_and_every_acked_one_arrives(
    restartable_master: MakeMaster, closing: list[Any]
) -> None:
    """While the Master stops, a driver hears `shutting_down` (and keeps the event) or an ack.

    Every event that was acked reaches its app, before the stop or after the restart.
    """
    master = restartable_master(**SETTINGS)
    await master.start()
    driver = await SioDriver(master.url).connect(DRIVER_TOKEN)
    closing.append(driver)
    assert (await driver.register())["success"]
    # A held message keeps the stop in its grace period, long enough to send events into it.
    holder = await holding_app(master.url, "holder", subscribe={"commands": ["/hold"]})
    closing.append(holder)
    sink = await start_app(master.url, "sink", subscribe={"commands": ["/job"]})
    closing.append(sink)
    assert (await driver.send("/hold", pid="hold-1"))["success"] is True
    await holder.next_message()

    acked: dict[str, str] = {}  # message id -> pid
    refused: list[dict[str, Any]] = []
    unexpected: list[tuple[str, Any]] = []
    unanswered: list[str] = []

    async def pump() -> None:
        """Send events one after another until the Master has gone."""
        number = 0
        while master.running and driver.client.connected:
            pid = f"job-{number}"
            number += 1
            try:
                answer = await driver.call(
                    "event",
                    {
                        "platform_message_id": pid,
                        "chat": {"type": "group", "id": "100"},
                        "sender": {"id": "200", "name": "Alice"},
                        "content": f"/job {pid}",
                    },
                    timeout=3,
                )
            except SocketIOError:
                unanswered.append(pid)  # cut off: the driver keeps it and sends it again later
                continue
            if isinstance(answer, dict) and answer.get("success") is True:
                acked[answer["id"]] = pid
            elif (
                isinstance(answer, dict)
                and answer.get("success") is False
                and answer.get("error", {}).get("code") == "shutting_down"
            ):
                refused.append(answer)
            else:
                unexpected.append((pid, answer))
            await asyncio.sleep(0.05)

    pumping = asyncio.create_task(pump())
    await asyncio.sleep(0.5)
    code = await master.terminate(timeout=STOP_GRACE + 5)
    await asyncio.wait_for(pumping, 10)
    print(f"{len(acked)} acked, {len(refused)} refused, {len(unanswered)} cut off")

    assert code == 0, master.text
    assert unexpected == [], unexpected
    assert refused, "no event was refused with `shutting_down` while the Master stopped"
    assert all(
        set(answer["error"]) == {"code", "message"} and answer["error"]["message"]
        for answer in refused
    ), refused[:3]
    await master.start()
    back = await start_app(master.url, "sink", subscribe={"commands": ["/job"]})
    closing.append(back)
    arrived = {message["id"] for message in sink.received}
    await back.receive_ids(set(acked) - arrived, timeout=10)


@pytest.mark.timeout(60)
async def test_a_second_stop_signal_cuts_the_grace_short_and_still_hands_work_over(
    restartable_master: MakeMaster, closing: list[Any]
) -> None:
    """Ctrl-C twice: the Master stops at once instead of waiting out a long grace, and what the
    app held is still delivered after the restart."""
    master = restartable_master(**SETTINGS, apps__stop_grace="30")
    await master.start()
    driver = await SioDriver(master.url).connect(DRIVER_TOKEN)
    closing.append(driver)
    assert (await driver.register())["success"]
    slow = await holding_app(master.url, "slow")
    closing.append(slow)
    ack = await driver.send("job", pid="job-1")
    await slow.next_message()
    assert master.run is not None
    process = master.run.process

    started = asyncio.get_running_loop().time()
    process.send_signal(signal.SIGINT)
    await asyncio.sleep(0.5)
    process.send_signal(signal.SIGINT)
    code = await asyncio.wait_for(process.wait(), 10)
    took = asyncio.get_running_loop().time() - started

    assert code == 0, master.text
    assert took < 5, f"the second signal did not cut the 30 s grace short ({took:.1f} s)"
    await master.start()
    back = await start_app(master.url, "slow")
    closing.append(back)
    await back.receive_ids([ack["id"]], timeout=10)
