"""An App checks what it is given, and registers with exactly what it was configured with."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from kenkogo_master.sdk import App, AppState, Message, Target


def test_the_register_payload_says_what_the_app_was_given() -> None:
    app = App(
        "weather",
        "1.2.0",
        urls=["http://a:1", "https://b"],
        token="t",
        locale="zh_Hans",
        priority=3,
        block=True,
        subscribe={"chats": ["group"]},
        batch=50,
        description="today's weather",
        author="KenkoGo",
    )

    @app.command("/weather")
    async def weather(message: Message) -> str:
        return message.args

    assert app.register_payload() == {
        "name": "weather",
        "version": "1.2.0",
        "subscribe": {"chats": ["group"], "commands": ["/weather"]},
        "block": True,
        "description": "today's weather",
        "author": "KenkoGo",
        "locale": "zh_Hans",
        "priority": 3,
        "batch": {"max": 50},
    }
    app.instance_id = "01previous"
    assert app.register_payload()["resume"] == "01previous"


def test_defaults_send_only_what_is_needed() -> None:
    app = App("plain", "1")
    assert app.urls == ["http://127.0.0.1:17680"]
    assert app.register_payload() == {
        "name": "plain",
        "version": "1",
        "subscribe": {},
        "block": False,
    }


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"version": " "}, "version"),
        ({"url": "ws://host"}, "http://"),
        ({"url": "http://a", "urls": ["http://b"]}, "not both"),
        ({"urls": []}, "at least one"),
        ({"priority": "high"}, "priority"),
        ({"priority": True}, "priority"),
        ({"batch": 0}, "batch"),
        ({"batch": 1001}, "batch"),
        ({"ack": "never"}, "ack"),
        ({"subscribe": ["group"]}, "subscribe"),
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, Any], problem: str) -> None:
    arguments: dict[str, Any] = {"name": "app", "version": "1", **kwargs}
    with pytest.raises((ValueError, TypeError), match=problem):
        App(**arguments)


async def test_handlers_cannot_be_declared_once_running_and_sends_need_a_running_app() -> None:
    app = App("late", "1", url="http://127.0.0.1:9")  # nothing listens on the discard port
    await app.start(wait=False)
    try:
        with pytest.raises(RuntimeError):
            app.command("/late")
        with pytest.raises(RuntimeError):
            await app.start()
    finally:
        await app.stop()
    with pytest.raises(RuntimeError):
        await App("idle", "1").send(Target.group("1", platform="qq"), "hi")


async def test_a_stop_does_not_wait_for_a_master_that_never_answers() -> None:
    """The socket opens, the handshake never comes back: the stop still ends promptly."""
    accepted: list[asyncio.StreamWriter] = []

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    app = App("patient", "1", url=f"http://127.0.0.1:{port}")
    try:
        await app.start(wait=False)
        while not accepted:
            await asyncio.sleep(0.01)
        started = time.monotonic()
        await app.stop()
        assert time.monotonic() - started < 4
        assert app.state is AppState.DISCONNECTED
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
