"""A client that never acknowledges cannot grow the Master's memory without bound."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

import pytest

from kenkogo_master.keys import SIO
from kenkogo_master.transport import sio_apps
from kenkogo_master.transport.sio_server import forget_oldest_unanswered
from tests.conftest import StartMaster
from tests.support.flow_clients import SioDriver, event, start_app

TOKEN = "driver-token"


def test_the_oldest_callbacks_past_the_limit_are_forgotten() -> None:
    callbacks: dict[Any, Any] = {0: itertools.count(6), 1: "a", 2: "b", 3: "c", 4: "d", 5: "e"}
    server = SimpleNamespace(manager=SimpleNamespace(callbacks={"sid": callbacks}))
    forget_oldest_unanswered(server, "sid", 3)  # type: ignore[arg-type]
    assert list(callbacks) == [0, 3, 4, 5]
    forget_oldest_unanswered(server, "sid", 3)  # type: ignore[arg-type]
    assert list(callbacks) == [0, 3, 4, 5]
    forget_oldest_unanswered(server, "gone", 3)  # type: ignore[arg-type]


async def test_an_app_that_never_acks_leaves_a_bounded_number_of_callbacks(
    start_master: StartMaster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sio_apps, "UNANSWERED_LIMIT", 10)
    master = await start_master(
        drivers__tokens=f'["{TOKEN}"]', apps__ack_timeout="60", apps__max_in_flight="100"
    )
    driver = await SioDriver(master.url).connect(TOKEN)
    assert (await driver.register("qq", "10001"))["success"]
    mute = await start_app(master.url, "mute")
    mute.answer = mute.never_ack
    try:
        for n in range(30):
            await driver.call("event", event(f"m {n}", pid=f"p-{n}"))
        received = [await mute.next_message() for _ in range(30)]
        sid = mute.client.get_sid("/app")
        pending = master.app[SIO].manager.callbacks[sid]
        assert len(received) == 30
        assert len(pending) - 1 == 10  # the id counter, then the ten newest callbacks
    finally:
        await mute.close()
        await driver.close()
