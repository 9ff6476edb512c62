"""Real clients for message-flow tests: a Socket.IO driver on /driver and message-handling apps."""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Callable, Iterable
from typing import Any

import socketio

from tests.support.clients import SioApp

Answer = Callable[[dict[str, Any]], Any]


class SioDriver:
    """A driver on /driver that answers every `action` (successfully unless told otherwise)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = socketio.AsyncClient(reconnection=False)
        self.actions: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.errors: asyncio.Queue[Any] = asyncio.Queue()
        self._numbers = itertools.count(1)
        self.answer: Callable[[dict[str, Any]], Any] = self._succeed
        self.disconnected = asyncio.Event()
        self.client.on("action", self._on_action, namespace="/driver")
        self.client.on("error", self.errors.put_nowait, namespace="/driver")
        self.client.on("disconnect", self._on_disconnect, namespace="/driver")

    def _on_disconnect(self, *_: Any) -> None:
        self.disconnected.set()

    def _succeed(self, action: dict[str, Any]) -> dict[str, Any]:
        return {"success": True, "platform_message_id": f"out-{next(self._numbers)}"}

    async def _on_action(self, action: dict[str, Any]) -> Any:
        self.actions.put_nowait(action)
        result = self.answer(action)
        return await result if inspect.isawaitable(result) else result

    async def connect(self, token: str | None = "driver-token") -> SioDriver:
        """Connect to /driver with a token."""
        auth = {"token": token} if token is not None else None
        await self.client.connect(
            self.url, namespaces=["/driver"], transports=["websocket"], auth=auth, wait_timeout=5
        )
        return self

    async def call(self, event: str, data: Any = None, timeout: float = 10) -> Any:
        """Emit an event and return its ack."""
        return await self.client.call(event, data, namespace="/driver", timeout=timeout)

    async def register(
        self, platform: str = "qq", self_id: str = "10001", **fields: Any
    ) -> dict[str, Any]:
        """Register and return the ack."""
        ack: dict[str, Any] = await self.call(
            "register", {"platform": platform, "self_id": self_id, **fields}
        )
        return ack

    async def send(
        self,
        content: str,
        pid: str | None = None,
        chat: dict[str, Any] | None = None,
        sender: dict[str, Any] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Send one `event` and return its ack."""
        ack: dict[str, Any] = await self.call("event", event(content, pid, chat, sender, **fields))
        return ack

    async def next_action(self, timeout: float = 5) -> dict[str, Any]:
        """Wait for the next `action`."""
        return await asyncio.wait_for(self.actions.get(), timeout)

    async def close(self) -> None:
        """Disconnect."""
        await self.client.disconnect()


_pids = itertools.count(1)


def event(
    content: str,
    pid: str | None = None,
    chat: dict[str, Any] | None = None,
    sender: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Build an inbound `event` payload (a group chat and a fresh id unless given)."""
    return {
        "platform_message_id": pid or f"m-{next(_pids)}",
        "chat": chat or {"type": "group", "id": "100"},
        "sender": sender or {"id": "200", "name": "Alice"},
        "content": content,
        **fields,
    }


class FlowApp(SioApp):
    """An app that records `message`/`messages` and answers each with `answer(message)`."""

    def __init__(self, url: str, answer: Answer | None = None) -> None:
        super().__init__(url)
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.received: list[dict[str, Any]] = []  # every message, in the order it arrived
        self.batches: list[list[dict[str, Any]]] = []
        self.answer: Answer = answer or (lambda message: {})
        self.release = asyncio.Event()  # ends every answer held by `never_ack`
        self.client.on("message", self._on_message, namespace="/app")
        self.client.on("messages", self._on_messages, namespace="/app")

    async def _answer(self, message: dict[str, Any]) -> Any:
        result = self.answer(message)
        return await result if inspect.isawaitable(result) else result

    async def _on_message(self, message: dict[str, Any]) -> Any:
        self.received.append(message)
        self.messages.put_nowait(message)
        return await self._answer(message)

    async def _on_messages(self, data: dict[str, Any]) -> Any:
        self.batches.append(data["messages"])
        answers = []
        for message in data["messages"]:
            self.received.append(message)
            self.messages.put_nowait(message)
            answers.append(await self._answer(message))
        return answers

    async def never_ack(self, message: dict[str, Any]) -> Any:
        """An answer that never comes (until `release` is set, after the test)."""
        await self.release.wait()
        return {}

    async def next_message(self, timeout: float = 5) -> dict[str, Any]:
        """Wait for the next message."""
        return await asyncio.wait_for(self.messages.get(), timeout)

    async def receive_ids(self, ids: Iterable[str], timeout: float = 10) -> list[dict[str, Any]]:
        """Wait until every message id in `ids` has arrived; fail naming those that did not."""
        wanted = set(ids)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            missing = wanted - {message["id"] for message in self.received}
            if not missing:
                return list(self.received)
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"{len(missing)} of {len(wanted)} messages never arrived within {timeout} s"
                    f" ({len(self.received)} arrived): {sorted(missing)[:10]}"
                )
            await asyncio.sleep(0.05)

    async def no_message(self, within: float = 0.3) -> None:
        """Assert that no message arrives for a while."""
        try:
            message = await asyncio.wait_for(self.messages.get(), within)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message {message}")

    async def close(self) -> None:
        """Release held answers and disconnect."""
        self.release.set()
        await super().close()


async def start_app(url: str, name: str, answer: Answer | None = None, **fields: Any) -> FlowApp:
    """Connect and register an app, and wait until it is scheduling."""
    app = FlowApp(url, answer)
    await app.connect()
    ack = await app.register(name, **fields)
    assert ack["success"], ack
    state = await app.next_state()
    assert state["state"] == "scheduling", state
    return app
