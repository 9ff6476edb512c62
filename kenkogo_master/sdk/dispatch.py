"""From a `message` (or a `messages` batch) to the handlers, and back to the ack."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kenkogo_master.sdk.models import (
    Approve,
    BadMessage,
    Block,
    Event,
    HandlerResult,
    MasterError,
    Message,
    Refuse,
    Reply,
)
from kenkogo_master.sdk.recent import Answer, RecentAnswers
from kenkogo_master.sdk.routes import Route, Routes

log = logging.getLogger("kenkogo_master.sdk")

AckMode = Literal["after", "before"]
ACK_MODES: tuple[AckMode, ...] = ("after", "before")
SendReply = Callable[[Message, Reply], Awaitable[str]]
ReadMessage = Callable[[Any], Message]
SendAnswer = Callable[[Event, Approve | Refuse], Awaitable[str]]


@dataclass(slots=True)
class Stats:
    """What the app has seen so far."""

    received: int = 0  # deliveries, duplicates included
    handled: int = 0  # messages whose handlers ran: each id once
    duplicates: int = 0  # deliveries of an id seen before, answered without the handlers
    failed: int = 0  # handler calls that raised
    batches: int = 0  # `messages` events
    registrations: int = 0  # successful `register`s, the first included


class Dispatcher:
    """Run each new message through the matching handlers once; answer repeats from memory."""

    def __init__(
        self,
        name: str,
        routes: Routes,
        read: ReadMessage,
        send_reply: SendReply,
        ack: AckMode = "after",
        remember: int = 10_000,
        send_answer: SendAnswer | None = None,
    ) -> None:
        self._name = name
        self._send_answer = send_answer
        self._routes = routes
        self._read = read
        self._send_reply = send_reply
        self.ack: AckMode = ack
        self.recent = RecentAnswers(remember)
        self.stats = Stats()
        self.tasks: set[asyncio.Task[None]] = set()
        self._answering = 0  # deliveries whose ack has not been handed to the socket yet

    async def on_message(self, data: Any) -> Answer:
        """Answer one `message` event."""
        self.stats.received += 1
        return await self._take(data)

    async def on_messages(self, data: Any) -> list[Answer]:
        """Answer a `messages` batch with one answer per message, in order."""
        items = data.get("messages") if isinstance(data, Mapping) else None
        if not isinstance(items, list):
            log.warning("app %s: a `messages` event without a list of messages", self._name)
            return []
        self.stats.batches += 1
        self.stats.received += len(items)
        return list(await asyncio.gather(*(self._take(item) for item in items)))

    async def _take(self, data: Any) -> Answer:
        self._answering += 1
        try:
            return await self._answer(data)
        finally:
            self._answering -= 1

    async def _answer(self, data: Any) -> Answer:
        try:
            message = self._read(data)
        except BadMessage as exc:
            log.warning("app %s: a message that cannot be read (%s): %r", self._name, exc, data)
            return {}
        known = self.recent.get(message.id)
        if known is not None:
            self.stats.duplicates += 1
            log.debug(
                "app %s: message %s again (attempt %d): not handled twice",
                self._name,
                message.id,
                message.attempt,
            )
            answer = known
        else:
            answer = self.recent.add(message.id)
            task = asyncio.create_task(self._handle(message, answer), name=f"handle-{message.id}")
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        if self.ack == "before":
            return {}
        # Shielded: a delivery that goes away (its connection closed) leaves the handler running.
        return dict(await asyncio.shield(answer))

    async def _handle(self, message: Message, answer: asyncio.Future[Answer]) -> None:
        result: Answer = {}
        try:
            result = await self._run(message)
        finally:
            if not answer.done():
                answer.set_result(result)

    async def _run(self, message: Message) -> Answer:
        """Call the matching handlers in declaration order until one blocks."""
        self.stats.handled += 1
        for route, bound in self._routes.matching(message):
            try:
                result = await _call(route, bound)
            except Exception:
                self.stats.failed += 1
                log.exception(
                    "app %s: handler %s failed on message %s",
                    self._name,
                    _name_of(route),
                    message.id,
                )
                continue
            if isinstance(result, Approve | Refuse):
                await self._answer_request(route, bound, result)
                continue
            blocked = isinstance(result, Block)
            reply = result.reply if isinstance(result, Block) else result
            if reply is not None:
                await self._reply(route, bound, reply)
            if blocked:
                return {"block": True}
        return {}

    async def _reply(self, route: Route, message: Message, value: object) -> None:
        try:
            reply = Reply.of(value)  # type: ignore[arg-type]
        except TypeError as exc:
            log.error(
                "app %s: handler %s returned something that is no answer: %s",
                self._name,
                _name_of(route),
                exc,
            )
            return
        try:
            await self._send_reply(message, reply)
        except (MasterError, TimeoutError, RuntimeError) as exc:
            log.error(
                "app %s: the reply to message %s was not sent: %s", self._name, message.id, exc
            )

    async def _answer_request(
        self, route: Route, message: Message, answer: Approve | Refuse
    ) -> None:
        if not isinstance(message, Event) or not message.is_request:
            log.error(
                "app %s: handler %s answered %s, which is no request",
                self._name,
                _name_of(route),
                message.kind,
            )
            return
        if self._send_answer is None:
            log.error("app %s: requests cannot be answered here", self._name)
            return
        try:
            await self._send_answer(message, answer)
        except (MasterError, TimeoutError, RuntimeError) as exc:
            log.error(
                "app %s: the answer to request %s was not sent: %s", self._name, message.id, exc
            )

    async def settle(self, grace: float) -> None:
        """Give running handlers `grace` seconds to finish and answer, then cancel the rest."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        if self.tasks and grace > 0:
            await asyncio.wait(tuple(self.tasks), timeout=grace)
        for task in tuple(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        # The acks follow their handlers by a few steps of the event loop.
        while self._answering and loop.time() < deadline:
            await asyncio.sleep(0.01)


async def _call(route: Route, message: Message) -> HandlerResult:
    result = route.handler(message)
    if inspect.isawaitable(result):
        return await result
    return result


def _name_of(route: Route) -> str:
    return getattr(route.handler, "__qualname__", repr(route.handler))
