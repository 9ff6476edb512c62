"""Recovery after a crash takes up every unfinished message, however many the queues hold."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.flow_clients import SioDriver, event, start_app
from tests.support.process import DRIVER_TOKEN, MakeMaster, RestartableMaster

QUEUE_LIMIT = 20
UNFINISHED = 60  # three queues' worth; under max_in_flight (64), so all are out at the crash


async def held_at_an_app(
    master: RestartableMaster, closing: list[Any], count: int, prefix: str
) -> list[str]:
    """Send `count` events in one batch to an app that never acks them; return their ids."""
    driver = await SioDriver(master.url).connect(DRIVER_TOKEN)
    closing.append(driver)
    assert (await driver.register())["success"]
    slow = await start_app(master.url, "slow")
    closing.append(slow)
    slow.answer = slow.never_ack
    answers = await driver.call(
        "events", {"events": [event(f"{prefix} {n}", pid=f"{prefix}-{n}") for n in range(count)]}
    )
    assert all(answer["success"] is True for answer in answers), answers
    ids = [answer["id"] for answer in answers]
    await slow.receive_ids(ids)  # all out at the app, none acknowledged
    return ids


@pytest.mark.timeout(60)
async def test_a_crash_with_more_unfinished_messages_than_queue_limit_delivers_them_all(
    restartable_master: MakeMaster, closing: list[Any]
) -> None:
    """60 acked messages sit unacknowledged at an app when the Master is killed.

    After the restart the app gets all 60 again, in the order they came, not the first 20.
    """
    master = restartable_master(
        apps__queue_limit=str(QUEUE_LIMIT), apps__ack_timeout="30", apps__recovery_delay="1"
    )
    await master.start()
    ids = await held_at_an_app(master, closing, UNFINISHED, "job")

    await master.kill()
    assert {status for _, status in master.messages().values()} == {"pending"}
    await master.start()
    back = await start_app(master.url, "slow")  # acknowledges at once
    closing.append(back)

    arrived = await back.receive_ids(ids, timeout=15)
    first_arrivals = list(dict.fromkeys(message["id"] for message in arrived))
    assert first_arrivals == ids


@pytest.mark.timeout(60)
async def test_messages_older_than_the_recovery_window_are_counted_and_logged_once(
    restartable_master: MakeMaster, closing: list[Any]
) -> None:
    """Unfinished messages that came before `recovery_window` are not delivered, never silently:
    marked interrupted, logged once with their number and counted in the statistics."""
    master = restartable_master(apps__recovery_window="1", apps__recovery_delay="0")
    await master.start()
    await held_at_an_app(master, closing, 5, "old")
    await master.kill()
    await asyncio.sleep(1.5)  # the window passes while the Master is down

    await master.start()
    back = await start_app(master.url, "slow")
    closing.append(back)
    await back.no_message(within=1.0)
    assert {status for _, status in master.messages().values()} == {"interrupted"}
    status, overview = await master.api("GET", "/api/v1/stats/overview")
    assert status == 200
    assert overview["today"]["interrupted"] == 5, overview["today"]
    lines = [line for line in master.text.splitlines() if "marked interrupted" in line]
    assert len(lines) == 1 and "5 messages" in lines[0], lines
