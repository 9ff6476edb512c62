"""The Python SDK against the real Master, over real sockets: what an app author relies on."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from kenkogo_master.sdk import App, AppState, Block, MasterError, Message, Reply, Target
from tests.conftest import RunningMaster, StartMaster, stop_master
from tests.support.flow_clients import SioDriver, event, start_app
from tests.support.process import free_port
from tests.support.proxy import TcpProxy
from tests.support.waiting import eventually

TOKEN = "driver-token"
MakeApp = Callable[..., Awaitable[App]]


async def settled(master: RunningMaster, message_id: str, timeout: float = 10) -> dict[str, Any]:
    """Poll GET /api/v1/messages/{id} until it is no longer pending; return it."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = await master.api("GET", f"/api/v1/messages/{message_id}")
        assert status == 200, body
        if body["status"] != "pending" or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.05)


async def until(check: Callable[[], bool], timeout: float = 10) -> None:
    """Wait until `check()` holds; fail after `timeout` seconds."""

    async def probe() -> bool:
        return check()

    await eventually(probe, bool, timeout=timeout)


@pytest.fixture
async def master(start_master: StartMaster) -> RunningMaster:
    """A Master that accepts the test driver."""
    return await start_master(drivers__tokens=f'["{TOKEN}"]')


@pytest.fixture
async def driver(master: RunningMaster) -> AsyncIterator[SioDriver]:
    """A registered qq driver."""
    client = await SioDriver(master.url).connect(TOKEN)
    assert (await client.register("qq", "10001", name="bot", locale="en"))["success"]
    yield client
    await client.close()


@pytest.fixture
async def make_app() -> AsyncIterator[MakeApp]:
    """Start SDK apps (declared by `declare(app)`); every one is stopped after the test."""
    apps: list[App] = []

    async def make(
        url: str | None, declare: Callable[[App], None], start: bool = True, **options: Any
    ) -> App:
        app = App(options.pop("name", "sdk"), "1.0.0", url=url, **options)
        declare(app)
        apps.append(app)
        if start:
            await app.start(timeout=10)
        return app

    yield make
    for app in apps:
        await app.stop()


async def test_a_handler_that_raises_is_logged_answered_without_block_and_the_app_goes_on(
    master: RunningMaster,
    driver: SioDriver,
    make_app: MakeApp,
    closing: list[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    handled: list[str] = []

    def declare(app: App) -> None:
        @app.message()
        async def strict(message: Message) -> Block:
            handled.append(message.content)
            if message.content == "boom":
                raise RuntimeError("the handler broke")
            return Block("handled")

    await make_app(master.url, declare, priority=1)
    lower = await start_app(master.url, "lower", priority=5)
    closing.append(lower)

    boom = await driver.send("boom")
    assert (await lower.next_message())["id"] == boom["id"]  # not blocked: lower levels get it
    detail = await settled(master, boom["id"])
    assert {d["app"]: d["status"] for d in detail["deliveries"]} == {
        "sdk": "acked",
        "lower": "acked",
    }
    assert "the handler broke" in caplog.text and "failed on message " + boom["id"] in caplog.text

    fine = await driver.send("fine")
    assert (await driver.next_action())["content"] == "handled"
    assert (await settled(master, fine["id"]))["status"] == "handled"
    await lower.no_message(within=0.5)  # blocked this time
    assert handled == ["boom", "fine"]


async def test_a_paused_app_gets_nothing_until_an_operator_resumes_it(
    master: RunningMaster, driver: SioDriver, make_app: MakeApp
) -> None:
    handled: list[str] = []
    states: list[tuple[AppState, str]] = []

    def declare(app: App) -> None:
        app.on_state(lambda state, reason: states.append((state, reason)))

        @app.command("/count")
        async def count(message: Message) -> None:
            handled.append(message.content)

    app = await make_app(master.url, declare)
    await until(lambda: app.state is AppState.SCHEDULING)

    status, _ = await master.api("POST", f"/api/v1/apps/{app.instance_id}/pause")
    assert status == 200
    await until(lambda: app.state is AppState.PAUSED)
    during = await driver.send("/count during the pause")
    assert (await settled(master, during["id"]))["status"] == "unrouted"
    await asyncio.sleep(0.3)
    assert handled == []

    status, _ = await master.api("POST", f"/api/v1/apps/{app.instance_id}/resume")
    assert status == 200
    await until(lambda: app.state is AppState.SCHEDULING)
    after = await driver.send("/count after")
    assert (await settled(master, after["id"]))["status"] == "handled"
    assert handled == ["/count after"]
    seen = [state for state, _ in states]
    assert seen == [AppState.CONNECTED, AppState.SCHEDULING, AppState.PAUSED, AppState.SCHEDULING]
    assert all(reason for state, reason in states[2:]), states  # the Master's words for it


async def test_batches_are_handled_each_message_once_and_answered_with_one_list(
    master: RunningMaster, driver: SioDriver, make_app: MakeApp
) -> None:
    handled: list[str] = []

    def declare(app: App) -> None:
        @app.message()
        async def each(message: Message) -> Block | None:
            handled.append(message.id)
            await asyncio.sleep(0.01)
            return Block() if message.content.endswith("7") else None

    app = await make_app(master.url, declare, batch=20)
    answers = await driver.call("events", {"events": [event(f"b{n}") for n in range(30)]})
    ids = [answer["id"] for answer in answers]
    await until(lambda: len(handled) == 30)
    for message_id in ids:
        assert (await settled(master, message_id))["status"] == "handled"
    assert sorted(handled) == sorted(ids)
    assert app.stats.batches >= 1 and app.stats.received == 30 and app.stats.duplicates == 0
    blocked = await master.api("GET", f"/api/v1/messages/{ids[7]}")
    assert blocked[1]["deliveries"][0]["blocked"] is True


@pytest.mark.parametrize("ack", ["after", "before"])
async def test_the_ack_waits_for_the_handler_unless_asked_to_go_before(
    master: RunningMaster, driver: SioDriver, make_app: MakeApp, ack: str
) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    def declare(app: App) -> None:
        @app.message()
        async def slow(message: Message) -> str:
            started.set()
            await release.wait()
            return "finished"

    await make_app(master.url, declare, ack=ack)
    sent = await driver.send("work")
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.sleep(0.3)
    status, detail = await master.api("GET", f"/api/v1/messages/{sent['id']}")
    assert status == 200
    if ack == "after":
        assert detail["status"] == "pending"  # its delivery is written once it is answered
    else:
        assert detail["status"] == "handled" and detail["deliveries"][0]["status"] == "acked"
    release.set()
    assert (await driver.next_action())["content"] == "finished"
    assert (await settled(master, sent["id"]))["status"] == "handled"


async def test_a_message_delivered_again_while_its_handler_runs_is_handled_once(
    start_master: StartMaster, make_app: MakeApp
) -> None:
    """The ack timeout passes while the handler works: the Master sends it again, same id."""
    master = await start_master(drivers__tokens=f'["{TOKEN}"]', apps__ack_timeout="0.4")
    driver = await SioDriver(master.url).connect(TOKEN)
    assert (await driver.register())["success"]
    calls: list[str] = []

    def declare(app: App) -> None:
        @app.message()
        async def slow(message: Message) -> str:
            calls.append(message.id)
            await asyncio.sleep(1.0)
            return "once"

    app = await make_app(master.url, declare)
    sent = await driver.send("slow")
    assert (await driver.next_action(timeout=10))["content"] == "once"
    detail = await settled(master, sent["id"])
    assert detail["status"] == "handled"
    assert len(detail["deliveries"]) >= 2  # really delivered again
    assert calls == [sent["id"]] and app.stats.duplicates >= 1
    await driver.close()


async def test_replies_sends_and_templates_reach_the_driver(
    master: RunningMaster, driver: SioDriver, make_app: MakeApp
) -> None:
    reply_ids: list[str] = []

    def declare(app: App) -> None:
        @app.command("/items")
        async def items(message: Message) -> Reply:
            count = int(message.args)
            reply_ids.append(await message.reply(f"counting {count}"))
            await app.send(Target.group("555", platform="qq"), "a message of my own")
            return Reply(template="template.items_count", params={"count": {"plural": count}})

    await make_app(master.url, declare)
    await driver.send("/items 3")
    actions = [await driver.next_action() for _ in range(3)]
    assert [action["content"] for action in actions] == [
        "counting 3",
        "a message of my own",
        "3 items",
    ]
    assert actions[1]["chat"] == {"type": "group", "id": "555"}
    assert reply_ids == [actions[0]["id"]]


async def test_a_refused_template_is_logged_and_the_message_still_acked(
    master: RunningMaster, driver: SioDriver, make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    def declare(app: App) -> None:
        @app.message()
        async def wrong(message: Message) -> Reply:
            return Reply(template="template.does_not_exist")

    await make_app(master.url, declare)
    sent = await driver.send("hello")
    assert (await settled(master, sent["id"]))["status"] == "handled"
    assert "unknown_template" in caplog.text


async def test_the_next_url_is_tried_when_one_is_down(
    start_master: StartMaster, make_app: MakeApp
) -> None:
    first = await start_master(drivers__tokens=f'["{TOKEN}"]')
    second = await start_master(drivers__tokens=f'["{TOKEN}"]')
    dead = f"http://127.0.0.1:{free_port()}"
    got: list[str] = []

    def declare(app: App) -> None:
        @app.message()
        async def note(message: Message) -> None:
            got.append(message.content)

    app = await make_app(None, declare, urls=[dead, first.url, second.url])
    assert app.connected_url == first.url

    await stop_master(first)  # the Master goes away: the app moves on past the dead URL
    await until(lambda: app.connected_url == second.url and app.state is AppState.SCHEDULING)
    driver = await SioDriver(second.url).connect(TOKEN)
    assert (await driver.register())["success"]
    sent = await driver.send("over there")
    assert (await settled(second, sent["id"]))["status"] == "handled"
    assert got == ["over there"]
    await driver.close()


async def test_a_url_that_accepts_but_never_answers_is_given_up_for_the_next(
    master: RunningMaster, make_app: MakeApp
) -> None:
    held: list[asyncio.StreamWriter] = []

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    silent_url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        started = time.monotonic()
        app = await make_app(
            None, lambda app: None, urls=[silent_url, master.url], connect_timeout=0.5
        )
        assert app.connected_url == master.url and held
        assert time.monotonic() - started < 5
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_heartbeats_keep_the_app_registered(
    start_master: StartMaster, make_app: MakeApp
) -> None:
    master = await start_master(apps__heartbeat_interval="0.2", apps__heartbeat_timeout="1")
    app = await make_app(master.url, lambda app: None)
    assert app.heartbeat_interval == pytest.approx(0.2)
    first = app.instance_id
    await asyncio.sleep(2.5)  # silent for this long, the Master would have dropped it
    assert app.state is AppState.SCHEDULING and app.instance_id == first
    assert app.stats.registrations == 1
    status, body = await master.api("GET", f"/api/v1/apps/{first}")
    assert status == 200 and body["state"] == "scheduling"


async def test_a_dropped_connection_resumes_and_in_flight_messages_come_back_once(
    master: RunningMaster, driver: SioDriver, make_app: MakeApp
) -> None:
    proxy = await TcpProxy(master.port).start()
    release = asyncio.Event()
    calls: list[str] = []

    def declare(app: App) -> None:
        @app.message()
        async def held(message: Message) -> str:
            calls.append(message.id)
            await release.wait()
            return f"done {message.content}"

    try:
        app = await make_app(proxy.url, declare)
        first_id = app.instance_id
        sent = await driver.send("in flight")
        await until(lambda: calls == [sent["id"]])

        await proxy.cut()
        await until(lambda: app.stats.registrations == 2 and app.state is AppState.SCHEDULING)
        assert app.instance_id == first_id  # resumed: the same instance
        await until(lambda: app.stats.duplicates == 1)  # the in-flight message came back
        release.set()
        assert (await driver.next_action())["content"] == "done in flight"
        detail = await settled(master, sent["id"])
        assert detail["status"] == "handled"
        assert [d["attempt"] for d in detail["deliveries"]] == [1, 2]
        assert calls == [sent["id"]]
    finally:
        release.set()
        await proxy.close()


async def test_a_kicked_app_stays_away(master: RunningMaster, make_app: MakeApp) -> None:
    errors: list[MasterError] = []

    def declare(app: App) -> None:
        app.on_error(errors.append)

    app = await make_app(master.url, declare)
    status, _ = await master.api("POST", f"/api/v1/apps/{app.instance_id}/kick")
    assert status == 200
    await asyncio.wait_for(app.wait_closed(), 5)
    assert app.state is AppState.DISCONNECTED and [error.code for error in errors] == ["kicked"]
    status, listed = await master.api("GET", "/api/v1/apps?name=sdk")
    assert status == 200 and listed["items"] == []


async def test_a_wrong_token_is_refused_at_start(
    start_master: StartMaster, make_app: MakeApp
) -> None:
    master = await start_master(apps__require_token="true", apps__tokens='["app-secret"]')
    with pytest.raises(MasterError) as refused:
        await make_app(master.url, lambda app: None, token="wrong")
    assert refused.value.code == "unauthorized"
    app = await make_app(master.url, lambda app: None, token="app-secret", name="trusted")
    assert app.state is AppState.SCHEDULING


async def test_a_refused_registration_stops_the_app(
    master: RunningMaster, make_app: MakeApp
) -> None:
    def declare(app: App) -> None:
        @app.regex(r"(?<name>x)")  # Python accepts no such group syntax…
        async def never(message: Message) -> None: ...

    with pytest.raises(ValueError, match="regex"):
        await make_app(master.url, declare)  # …and the SDK says so before it connects
    # What only the Master checks: a locale tag longer than it accepts.
    app = App("sdk", "1", url=master.url, locale="x" * 40)
    with pytest.raises(MasterError) as refused:
        await app.start(timeout=10)
    assert refused.value.code == "invalid_payload" and "locale" in refused.value.message
    assert app.state is AppState.DISCONNECTED


async def test_a_stop_lets_running_handlers_finish_and_ack(
    master: RunningMaster, driver: SioDriver, make_app: MakeApp
) -> None:
    started = asyncio.Event()

    def declare(app: App) -> None:
        @app.message()
        async def slow(message: Message) -> str:
            started.set()
            await asyncio.sleep(0.5)
            return "made it"

    app = await make_app(master.url, declare)
    sent = await driver.send("work")
    await asyncio.wait_for(started.wait(), 5)
    await app.stop()
    assert app.state is AppState.DISCONNECTED
    assert (await driver.next_action())["content"] == "made it"
    assert (await settled(master, sent["id"]))["status"] == "handled"
    assert Counter(d["status"] for d in (await settled(master, sent["id"]))["deliveries"]) == {
        "acked": 1
    }


async def test_error_events_are_logged(
    master: RunningMaster, make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "kenkogo_master.sdk")
    errors: list[MasterError] = []
    app = await make_app(master.url, lambda app: app.on_error(errors.append))
    connection = app._connection
    assert connection is not None
    await connection.client.emit("no_such_event", {}, namespace="/app")  # the Master tells why
    await until(lambda: bool(errors))
    assert errors[0].code == "unknown_event"
    assert "unknown_event" in caplog.text
