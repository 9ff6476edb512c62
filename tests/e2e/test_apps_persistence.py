"""What the Master keeps across a restart: held names and the history of every instance."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import ADMIN_TOKEN, stop_master
from tests.support.clients import SioApp
from tests.support.process import free_port, master_environ, running_master
from tests.support.texts import shown_text


async def test_hold_and_history_survive_a_clean_restart(start_master: Any, tmp_path: Path) -> None:
    data_dir = tmp_path / "kept"
    first = await start_master(data_dir)
    app = await SioApp(first.url).connect()
    ack = await app.register("weather", description="tells the weather")
    await first.api("POST", "/api/v1/app-names/weather/hold")
    await app.close()
    await stop_master(first)

    second = await start_master(data_dir)
    _, names = await second.api("GET", "/api/v1/app-names")
    again = await SioApp(second.url).connect()
    try:
        new_ack = await again.register("weather")
        state = await again.next_state()
    finally:
        await again.close()
    _, old = await second.api("GET", f"/api/v1/apps/{ack['id']}")

    assert new_ack["state"] == "paused"
    assert state == {"state": "paused", "reason": shown_text(second, "state.name_held")}
    weather = next(item for item in names["items"] if item["name"] == "weather")
    assert weather["held"] is True
    assert weather["description"] == "tells the weather"
    assert old["state"] == "disconnected"
    assert [(step["from"], step["to"]) for step in old["transitions"]] == [
        ("connected", "paused"),
        ("paused", "scheduling"),
        ("scheduling", "paused"),
        ("paused", "disconnected"),
    ]


async def test_instances_left_open_by_a_killed_master_are_closed_on_start(
    start_master: Any, tmp_path: Path
) -> None:
    data_dir = tmp_path / "crashed"
    port = free_port()
    environ = master_environ(data_dir, port, KENKOGO_API__TOKEN=ADMIN_TOKEN)
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with running_master(environ, port) as child:
        await child.wait_healthy()
        app = SioApp(child.url)
        await app.connect()
        ack = await app.register("weather")
        async with aiohttp.ClientSession(headers=auth) as http:
            async with http.post(child.url + "/api/v1/app-names/news/hold") as response:
                assert response.status == 200
            async with http.get(child.url + f"/api/v1/apps/{ack['id']}") as response:
                assert (await response.json())["state"] == "scheduling"
        await child.stop(signal.SIGKILL)
        await app.close()

    master = await start_master(data_dir)
    _, body = await master.api("GET", f"/api/v1/apps/{ack['id']}")
    _, names = await master.api("GET", "/api/v1/app-names")
    _, live = await master.api("GET", "/api/v1/apps")

    assert body["state"] == "disconnected"
    last = body["transitions"][-1]
    assert (last["from"], last["to"], last["reason_key"]) == (
        "scheduling",
        "disconnected",
        "state.master_restarted",
    )
    assert last["reason"] == shown_text(master, "state.master_restarted")
    assert [step["to"] for step in body["transitions"]] == [
        "paused",
        "scheduling",
        "disconnected",
    ]
    assert {item["name"]: item["held"] for item in names["items"]} == {
        "weather": False,
        "news": True,
    }
    assert live["count"] == 0
