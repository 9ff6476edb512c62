"""An SDK app lives through a Master restart (`python main.py`, SIGKILL or SIGTERM): it reconnects
by itself, nothing acknowledged is lost, and its handler sees each message once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from kenkogo_master.sdk import App, AppState, Message
from tests.support.flow_clients import SioDriver
from tests.support.process import DRIVER_TOKEN, MakeMaster, RestartableMaster
from tests.support.waiting import eventually

BEFORE = 5  # handled before the stop
HELD = 3  # still in their handler when the Master goes
AFTER = 5  # sent once it is back


async def until(check: Callable[[], bool], timeout: float = 20) -> None:
    """Wait until `check()` holds."""

    async def probe() -> bool:
        return check()

    await eventually(probe, bool, timeout=timeout, step=0.05)


async def connect_driver(master: RestartableMaster) -> SioDriver:
    """Connect and register the driver (the same account each run)."""
    driver = await SioDriver(master.url).connect(DRIVER_TOKEN)
    assert (await driver.register("qq", "10001", name="bot"))["success"]
    return driver


async def send_all(driver: SioDriver, prefix: str, count: int) -> list[str]:
    """Send `count` messages; return their ids (each acked: committed to SQL)."""
    ids = []
    for n in range(count):
        ack = await driver.send(f"{prefix} {n}", pid=f"{prefix}-{n}")
        assert ack["success"], ack
        ids.append(ack["id"])
    return ids


@pytest.mark.timeout(90)
@pytest.mark.parametrize("stop", ["SIGKILL", "SIGTERM"])
async def test_an_app_reconnects_and_loses_nothing_across_a_master_restart(
    restartable_master: MakeMaster, stop: str
) -> None:
    master = restartable_master(
        apps__ack_timeout="30", apps__recovery_delay="0.5", apps__stop_grace="0.5"
    )
    await master.start()
    release = asyncio.Event()
    calls: list[str] = []
    states: list[AppState] = []
    app = App("survivor", "1.0.0", url=master.url)
    app.on_state(lambda state, reason: states.append(state))

    @app.message()
    async def handle(message: Message) -> str:
        calls.append(message.id)
        if message.content.startswith("held"):
            await release.wait()
        return f"done {message.content}"

    driver = await connect_driver(master)
    try:
        await app.start(timeout=10)
        first_instance = app.instance_id
        before = await send_all(driver, "before", BEFORE)
        await until(lambda: len(calls) == BEFORE)
        held = await send_all(driver, "held", HELD)
        await until(lambda: len(calls) == BEFORE + HELD)  # in their handler, not acked

        if stop == "SIGKILL":
            await master.kill()
        else:
            assert await master.terminate() == 0
        await driver.close()
        statuses = master.messages()
        assert {statuses[i][1] for i in held} == {"pending"}
        await until(lambda: app.state is AppState.DISCONNECTED)

        await master.start()
        await until(lambda: app.stats.registrations == 2 and app.state is AppState.SCHEDULING)
        assert app.instance_id != first_instance  # a new run knows no earlier instance
        # The held messages come back while their handlers still run: dropped, not run again.
        await until(lambda: app.stats.duplicates >= HELD)
        release.set()
        driver = await connect_driver(master)
        after = await send_all(driver, "after", AFTER)

        every = before + held + after
        await until(lambda: {status for _, status in master.messages().values()} == {"handled"})
        assert sorted(calls) == sorted(every)
        assert Counter(calls).most_common(1)[0][1] == 1  # each id handled once
        replies: set[str] = set()
        while len(replies) < HELD + AFTER:
            replies.add((await driver.next_action(timeout=10))["content"])
        assert replies >= {f"done held {n}" for n in range(HELD)}
        assert AppState.DISCONNECTED in states and states[-1] is AppState.SCHEDULING
    finally:
        release.set()
        await app.stop()
        await driver.close()


@pytest.mark.timeout(60)
async def test_an_app_started_before_the_master_waits_for_it(
    restartable_master: MakeMaster,
) -> None:
    """The Master is not up yet: the app keeps trying, backing off, and registers once it is."""
    master = restartable_master()
    app = App("early", "1.0.0", url=master.url)
    seen: list[Any] = []
    app.message()(lambda message: seen.append(message.content))
    try:
        await app.start(wait=False)
        await asyncio.sleep(1.5)  # several refused attempts
        assert app.state is AppState.DISCONNECTED
        await master.start()
        await until(lambda: app.state is AppState.SCHEDULING)
        driver = await connect_driver(master)
        await send_all(driver, "hello", 1)
        await until(lambda: seen == ["hello 0"])
        await driver.close()
    finally:
        await app.stop()
