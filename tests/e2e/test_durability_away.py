"""An app that is away for a moment (a restart, an upgrade) finds its messages waiting for it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.flow_clients import FlowApp, SioDriver, event, start_app
from tests.support.process import DRIVER_TOKEN, MakeMaster, RestartableMaster
from tests.support.waiting import eventually

WHILE_AWAY = 12
SUBSCRIBE = {"commands": ["/job"]}


async def connected_driver(master: RestartableMaster, closing: list[Any]) -> SioDriver:
    """Connect and register the driver."""
    driver = await SioDriver(master.url).connect(DRIVER_TOKEN)
    closing.append(driver)
    assert (await driver.register())["success"]
    return driver


async def worker(master: RestartableMaster, closing: list[Any]) -> FlowApp:
    """Start an instance of the app `worker`: a new connection each time, no `resume`."""
    app = await start_app(master.url, "worker", subscribe=SUBSCRIBE)
    closing.append(app)
    return app


async def leave(master: RestartableMaster, app: FlowApp) -> None:
    """Disconnect an app and wait until the Master lists no instance of its name."""
    await app.close()
    await eventually(
        lambda: master.api("GET", "/api/v1/apps?name=worker"),
        lambda answer: answer[0] == 200 and answer[1]["items"] == [],
    )


async def send_jobs(driver: SioDriver, count: int, prefix: str) -> list[str]:
    """Send `count` jobs; return the message ids the driver got acked."""
    answers = await driver.call(
        "events", {"events": [event(f"/job {n}", pid=f"{prefix}-{n}") for n in range(count)]}
    )
    assert all(answer["success"] is True for answer in answers), answers
    return [answer["id"] for answer in answers]


@pytest.mark.timeout(60)
async def test_messages_that_arrive_while_an_app_restarts_are_delivered_once_it_is_back(
    restartable_master: MakeMaster, closing: list[Any]
) -> None:
    """An app disconnects, messages for it arrive, it reconnects: it receives every one."""
    master = restartable_master()
    await master.start()
    driver = await connected_driver(master, closing)
    await leave(master, await worker(master, closing))

    ids = await send_jobs(driver, WHILE_AWAY, "away")
    back = await worker(master, closing)

    arrived = await back.receive_ids(ids, timeout=10)
    assert list(dict.fromkeys(message["id"] for message in arrived)) == ids


def listed(answer: tuple[int, Any]) -> dict[str, Any]:
    """Return the `worker` item of a GET /api/v1/app-names answer."""
    status, body = answer
    assert status == 200, body
    item: dict[str, Any] = next(item for item in body["items"] if item["name"] == "worker")
    return item


@pytest.mark.timeout(60)
async def test_app_names_show_an_away_name_with_its_queue_depth(
    restartable_master: MakeMaster, closing: list[Any]
) -> None:
    """While an app is away, GET /api/v1/app-names says so and how many messages wait for it."""
    master = restartable_master()
    await master.start()
    driver = await connected_driver(master, closing)
    app = await worker(master, closing)
    present = listed(await master.api("GET", "/api/v1/app-names"))
    await leave(master, app)
    ids = await send_jobs(driver, WHILE_AWAY, "away")

    away = listed(
        await eventually(
            lambda: master.api("GET", "/api/v1/app-names"),
            lambda answer: listed(answer).get("queued") == WHILE_AWAY,
        )
    )
    back = await worker(master, closing)
    await back.receive_ids(ids)
    returned = listed(
        await eventually(
            lambda: master.api("GET", "/api/v1/app-names"),
            lambda answer: listed(answer).get("queued") == 0,
        )
    )

    assert (present["away"], present["queued"], present["instances"]) == (False, 0, 1)
    assert (away["away"], away["queued"], away["instances"]) == (True, WHILE_AWAY, 0)
    assert (returned["away"], returned["queued"], returned["instances"]) == (False, 0, 1)


@pytest.mark.timeout(60)
async def test_messages_sent_after_a_crash_before_the_app_is_back_are_delivered(
    restartable_master: MakeMaster, closing: list[Any]
) -> None:
    """The Master is killed and restarted; messages come in before the app has reconnected.

    The Master knows the name from before the crash, keeps them, and the app gets them all.
    """
    master = restartable_master()
    await master.start()
    await worker(master, closing)
    await master.kill()
    await master.start()

    driver = await connected_driver(master, closing)
    ids = await send_jobs(driver, WHILE_AWAY, "after-crash")
    back = await worker(master, closing)

    arrived = await back.receive_ids(ids, timeout=10)
    assert list(dict.fromkeys(message["id"] for message in arrived)) == ids
