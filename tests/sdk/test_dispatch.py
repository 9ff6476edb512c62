"""From deliveries to answers, without sockets: order, blocks, failures, repeats, batches."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kenkogo_master.sdk import Block, Message, Reply
from kenkogo_master.sdk.dispatch import AckMode, Dispatcher
from kenkogo_master.sdk.routes import Kind, Route, Routes


class Harness:
    """A dispatcher whose replies are recorded instead of sent."""

    def __init__(self, ack: AckMode = "after") -> None:
        self.routes = Routes()
        self.replies: list[tuple[str, Reply]] = []
        self.dispatcher = Dispatcher(
            "test", self.routes, lambda data: Message.from_wire(data), self._reply, ack, 100
        )

    async def _reply(self, message: Message, reply: Reply) -> str:
        self.replies.append((message.id, reply))
        return "r"

    def on(self, kind: Kind, items: list[str], handler: Any) -> None:
        """Declare a route."""
        self.routes.add(Route.make(kind, items, handler))


def wire(message_id: str, content: str = "hi") -> dict[str, Any]:
    """Return a `message` payload."""
    return {"id": message_id, "content": content}


async def test_handlers_run_in_order_until_one_blocks_and_their_replies_go_out() -> None:
    harness = Harness()
    called: list[str] = []

    def first(message: Message) -> str:  # a plain function works too
        called.append("first")
        return "one"

    async def second(message: Message) -> Block:
        called.append("second")
        return Block(Reply(template="template.x"))

    async def third(message: Message) -> None:
        called.append("third")

    harness.on(Kind.ANY, [], first)
    harness.on(Kind.COMMAND, ["/a"], second)
    harness.on(Kind.ANY, [], third)
    assert await harness.dispatcher.on_message(wire("1", "/a")) == {"block": True}
    assert called == ["first", "second"]
    assert harness.replies == [("1", Reply("one")), ("1", Reply(template="template.x"))]
    assert await harness.dispatcher.on_message(wire("2", "/b")) == {}
    assert called == ["first", "second", "first", "third"]


async def test_a_raising_handler_or_a_strange_answer_is_logged_and_the_rest_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    harness = Harness()

    async def broken(message: Message) -> None:
        raise KeyError("oops")

    async def odd(message: Message) -> Any:
        return 42

    async def fine(message: Message) -> str:
        return "still here"

    for handler in (broken, odd, fine):
        harness.on(Kind.ANY, [], handler)
    assert await harness.dispatcher.on_message(wire("1")) == {}
    assert harness.replies == [("1", Reply("still here"))]
    assert harness.dispatcher.stats.failed == 1
    assert "KeyError: 'oops'" in caplog.text and "is no answer" in caplog.text


async def test_a_repeat_waits_for_the_first_delivery_and_gets_its_answer() -> None:
    harness = Harness()
    release = asyncio.Event()
    calls = 0

    async def slow(message: Message) -> Block:
        nonlocal calls
        calls += 1
        await release.wait()
        return Block()

    harness.on(Kind.ANY, [], slow)
    first = asyncio.create_task(harness.dispatcher.on_message(wire("1")))
    again = asyncio.create_task(harness.dispatcher.on_message(wire("1")))
    await asyncio.sleep(0.05)
    assert not first.done() and not again.done()
    release.set()
    assert await first == await again == {"block": True}
    assert await harness.dispatcher.on_message(wire("1")) == {"block": True}  # and later on
    assert calls == 1 and harness.dispatcher.stats.duplicates == 2


async def test_ack_before_answers_at_once_and_the_handler_still_runs() -> None:
    harness = Harness(ack="before")
    done = asyncio.Event()

    async def later(message: Message) -> Block:
        await asyncio.sleep(0.05)
        done.set()
        return Block()

    harness.on(Kind.ANY, [], later)
    assert await harness.dispatcher.on_message(wire("1")) == {}
    assert not done.is_set()
    await asyncio.wait_for(done.wait(), 2)
    await harness.dispatcher.settle(1)


async def test_a_batch_is_answered_in_order_and_unreadable_messages_get_empty_answers() -> None:
    harness = Harness()

    async def block_odd(message: Message) -> Block | None:
        await asyncio.sleep(0.01 * (5 - int(message.id)))  # finish in reverse order
        return Block() if int(message.id) % 2 else None

    harness.on(Kind.ANY, [], block_odd)
    answers = await harness.dispatcher.on_messages(
        {"messages": [wire("1"), wire("2"), {"no": "id"}, wire("3"), wire("1")]}
    )
    assert answers == [{"block": True}, {}, {}, {"block": True}, {"block": True}]
    assert harness.dispatcher.stats.batches == 1 and harness.dispatcher.stats.received == 5
    assert await harness.dispatcher.on_messages({"messages": "nope"}) == []
    assert await harness.dispatcher.on_message("not a message") == {}


async def test_settle_cancels_handlers_past_the_grace() -> None:
    harness = Harness(ack="before")
    cancelled = asyncio.Event()

    async def forever(message: Message) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    harness.on(Kind.ANY, [], forever)
    await harness.dispatcher.on_message(wire("1"))
    await harness.dispatcher.settle(0.05)
    assert cancelled.is_set() and not harness.dispatcher.tasks
