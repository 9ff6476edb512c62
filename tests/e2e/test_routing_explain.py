"""Why did an app (not) get a message: the routing explained over REST, name by name."""

from __future__ import annotations

from tests.conftest import StartMaster
from tests.support.flow_clients import SioDriver, start_app
from tests.support.waiting import eventually

TOKEN = "driver-token"


def by_name(answer: dict[str, object]) -> dict[str, dict[str, object]]:
    return {entry["name"]: entry for entry in answer["names"]}  # type: ignore[index,union-attr]


async def test_a_stored_message_is_explained_with_the_filter_that_failed(
    start_master: StartMaster,
) -> None:
    master = await start_master(drivers__tokens=f'["{TOKEN}"]')
    weather = await start_app(master.url, "weather", subscribe={"commands": ["/weather"]})
    echo = await start_app(master.url, "echo", priority=5)
    guard = await start_app(
        master.url, "guard", priority=0, block=True, subscribe={"keywords": ["secret"]}
    )
    driver = await SioDriver(master.url).connect(TOKEN)
    try:
        assert (await driver.register())["success"]
        ack = await driver.send("hello there", pid="p-1")
        await echo.next_message()

        status, answer = await master.api("GET", f"/api/v1/messages/{ack['id']}/routing")

        assert status == 200, answer
        names = by_name(answer)
        assert answer["levels"] == [["echo"]]
        weather_entry = names["weather"]
        assert weather_entry["outcome"] == "no_match"
        (target,) = weather_entry["targets"]
        assert target["filters"] == [
            {"filter": "commands", "wanted": ["/weather"], "seen": "hello there", "matched": False}
        ]
        assert names["guard"]["outcome"] == "no_match"
        assert names["echo"]["outcome"] == "receives"
        assert names["echo"]["instance"]["id"] is not None
        assert "fewest unacknowledged" in names["echo"]["instance"]["why"]
        assert [(d["app"], d["status"]) for d in answer["deliveries"]] == [("echo", "acked")]
    finally:
        for client in (weather, echo, guard, driver):
            await client.close()


async def test_a_typed_in_message_shows_who_blocks_lower_levels(start_master: StartMaster) -> None:
    master = await start_master()
    guard = await start_app(
        master.url, "guard", priority=0, block=True, subscribe={"keywords": ["secret"]}
    )
    echo = await start_app(master.url, "echo", priority=5)
    try:
        status, answer = await master.api(
            "POST", "/api/v1/routing/explain", json={"content": "a secret", "platform": "qq"}
        )
        assert status == 200, answer
        names = by_name(answer)
        assert answer["levels"] == [["guard"], ["echo"]]
        assert names["guard"]["outcome"] == "receives" and names["guard"]["block"] is True
        assert names["echo"]["outcome"] == "blocked"
        assert "guard" in names["echo"]["why"]
        await echo.no_message()  # explaining sends nothing

        await guard.close()
        _, answer = await eventually(
            lambda: master.api("POST", "/api/v1/routing/explain", json={"content": "a secret"}),
            lambda reply: by_name(reply[1])["guard"]["status"] == "away",
        )
        names = by_name(answer)
        assert names["guard"]["outcome"] == "waits"
        assert names["echo"]["outcome"] == "blocked"  # a blocking away name holds them back
    finally:
        await echo.close()


async def test_bad_explain_bodies_are_refused(start_master: StartMaster) -> None:
    master = await start_master()
    for body in (
        {},
        {"content": 5},
        {"content": "x", "chat": {"type": "group"}},
        {"content": "x", "extra": 1},
    ):
        status, answer = await master.api("POST", "/api/v1/routing/explain", json=body)
        assert status == 400 and answer["code"] == "invalid_payload", (body, answer)
    status, answer = await master.api("GET", "/api/v1/messages/nope/routing")
    assert status == 404 and answer["code"] == "unknown_message", answer
