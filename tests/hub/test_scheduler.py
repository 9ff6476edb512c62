"""The scheduler without sockets: levels, block, instance choice, limits, timeouts, departures."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest

from kenkogo_master.errors import ErrorCode
from kenkogo_master.hub.messages import InboundMessage
from kenkogo_master.hub.notices import Notifier
from kenkogo_master.hub.recorder import Attempt, Recorder
from kenkogo_master.hub.registry import Registry
from kenkogo_master.hub.scheduler import Scheduler, parse_answer
from kenkogo_master.hub.sessions import AppSession
from kenkogo_master.hub.states import AppState
from kenkogo_master.protocol.apps import RegisterRequest
from kenkogo_master.settings import AppSettings


class FakePeer:
    """Records what the scheduler sends; answers are given by the test."""

    transport = "socket.io"
    remote = "test"

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any, Callable[..., None]]] = []
        self.events: list[tuple[str, Any]] = []

    async def send(self, event: str, data: Any) -> None:
        self.events.append((event, data))

    async def request(self, event: str, data: Any, on_answer: Callable[..., None]) -> None:
        self.sent.append((event, data, on_answer))

    async def close(self) -> None:
        pass

    def ack(self, index: int = -1, answer: Any = None) -> None:
        self.sent[index][2](answer if answer is not None else {})

    def ids(self) -> list[str]:
        return [data["id"] for event, data, _ in self.sent if event == "message"]


class GatedPeer(FakePeer):
    """A slow or stuck socket: each send returns only once the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.closed = False

    async def request(self, event: str, data: Any, on_answer: Callable[..., None]) -> None:
        self.sent.append((event, data, on_answer))
        await self.gate.wait()

    async def close(self) -> None:
        self.closed = True


class MemoryRecorder(Recorder):
    """Keeps what would be written."""

    def __init__(self) -> None:
        self.attempts: dict[str, Attempt] = {}
        self.statuses: dict[str, str] = {}

    def attempt(self, attempt: Attempt) -> None:
        self.attempts[attempt.id] = attempt

    def message_status(self, message_id: str, status: str) -> None:
        self.statuses[message_id] = status

    def of(self, message_id: str) -> list[Attempt]:
        found = [a for a in self.attempts.values() if a.message_id == message_id]
        return sorted(found, key=lambda a: (a.app_name, a.number))


class Texts:
    def text(self, key: str, locale: str | None, /, **params: Any) -> str:
        return key


class World:
    """A scheduler with sessions moved through the state machine by hand."""

    def __init__(self, **settings: Any) -> None:
        self.registry = Registry()
        self.recorder = MemoryRecorder()
        self.scheduler = Scheduler(
            AppSettings(**settings), self.registry, self.recorder, Notifier(Texts())
        )
        self.replies: list[tuple[str, str, str]] = []
        self.scheduler.on_reply = lambda s, m, text: self.replies.append((s.id, m.id, text))
        self.count = 0

    def app(
        self, name: str, peer: FakePeer | None = None, **register: Any
    ) -> tuple[AppSession, FakePeer]:
        self.count += 1
        peer = peer or FakePeer()
        session = AppSession(id=f"{name}-{self.count}", peer=peer, connected_ms=0)
        request = RegisterRequest.model_validate({"name": name, "version": "1", **register})
        session.registration = request
        session.regexes = tuple(re.compile(p) for p in request.subscribe.regex or ())
        self.registry.add(session)
        self.registry.index_name(session)
        self.move(session, AppState.PAUSED)
        self.move(session, AppState.SCHEDULING)
        return session, peer

    def move(self, session: AppSession, to_state: AppState) -> None:
        from_state = session.state
        session.state = to_state
        self.scheduler.on_transition(session, from_state, to_state)
        if to_state is AppState.DISCONNECTED:
            self.registry.remove(session, 60)

    def message(self, content: str = "hi", **chat: str) -> InboundMessage:
        message = self.message_only(content, **chat)
        self.scheduler.dispatch(message)
        return message

    def message_only(self, content: str = "hi", **chat: str) -> InboundMessage:
        """Make a message without dispatching it."""
        self.count += 1
        message = InboundMessage(
            id=f"m{self.count:04d}",
            driver_id="d",
            platform="qq",
            platform_message_id=f"p{self.count}",
            chat={"type": chat.get("type", "group"), "id": chat.get("id", "1")},
            sender={"id": "u"},
            content=content,
            segments=[],
            locale=None,
            traceparent="00-" + "1" * 32 + "-" + "2" * 16 + "-01",
            time_ms=0,
            received_ms=0,
        )
        return message


async def settle() -> None:
    """Let the sender tasks run."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_priority_levels_run_in_order_and_a_block_answer_stops_lower_ones() -> None:
    world = World()
    _, first = world.app("first", priority=1)
    _, also_first = world.app("also-first", priority=1)
    _, later = world.app("later", priority=5)
    passed = world.message("one")
    stopped = world.message("two")
    await settle()
    assert first.ids() == [passed.id, stopped.id]
    assert also_first.ids() == [passed.id, stopped.id]
    assert later.ids() == []
    first.ack(0)
    await settle()
    assert later.ids() == []  # the level is not over until every name answered
    also_first.ack(0)
    first.ack(1, {"block": True})
    also_first.ack(1)
    await settle()
    assert later.ids() == [passed.id]
    later.ack(0)
    assert world.recorder.statuses == {passed.id: "handled", stopped.id: "handled"}
    assert [a.blocked for a in world.recorder.of(stopped.id)] == [False, True]


async def test_a_name_registered_with_block_stops_lower_priorities_at_once() -> None:
    world = World()
    _, guard = world.app("guard", priority=0, block=True, subscribe={"keywords": ["secret"]})
    _, rest = world.app("rest")
    world.message("a secret")
    plain = world.message("plain")
    await settle()
    assert len(guard.ids()) == 1
    assert rest.ids() == [plain.id]


async def test_unmatched_messages_are_unrouted() -> None:
    world = World()
    world.app("commands", subscribe={"commands": ["/"]})
    message = world.message("no command")
    assert world.recorder.statuses == {message.id: "unrouted"}
    assert world.scheduler.counters["unrouted"] == 1


async def test_one_instance_per_name_fewest_unacked_then_round_robin() -> None:
    world = World()
    _, a = world.app("lb")
    _, b = world.app("lb")
    for _ in range(4):
        world.message()
        await settle()
    assert len(a.ids()) == 2 and len(b.ids()) == 2  # equal loads alternate
    a.ack(0)
    a.ack(1)
    for _ in range(2):
        world.message()
        await settle()
    assert len(a.ids()) == 4 and len(b.ids()) == 2  # a had fewer unacked


async def test_max_in_flight_queues_and_queue_limit_drops_the_oldest() -> None:
    world = World(max_in_flight=2, queue_limit=2)
    _, app = world.app("slow")
    messages = [world.message() for _ in range(6)]
    await settle()
    assert app.ids() == [m.id for m in messages[:2]]
    # Four waited for a queue of two: the two oldest were dropped and failed.
    assert world.scheduler.counters["dropped"] == 2
    for dropped in messages[2:4]:
        assert world.recorder.statuses[dropped.id] == "failed"
        assert [a.error for a in world.recorder.of(dropped.id)] == ["queue_limit"]
    app.ack(0)
    app.ack(1)
    await settle()
    assert app.ids() == [m.id for m in messages[:2] + messages[4:]]


async def test_an_unanswered_attempt_goes_to_another_instance_after_the_back_off() -> None:
    world = World(ack_timeout=0.05, max_attempts=3)
    _, a = world.app("app")
    _, b = world.app("app")
    message = world.message()
    await settle()
    assert a.ids() == [message.id] and b.ids() == []
    await asyncio.sleep(0.05 + 0.12 + 0.05)
    assert b.ids() == [message.id]
    assert b.sent[0][1]["attempt"] == 2
    b.ack(0)
    statuses = [(a.number, a.status.value, a.error) for a in world.recorder.of(message.id)]
    assert statuses == [(1, "expired", "ack_timeout"), (2, "acked", None)]


async def test_attempts_run_out_and_the_delivery_fails() -> None:
    world = World(ack_timeout=0.03, max_attempts=2)
    _, app = world.app("mute")
    message = world.message()
    await asyncio.sleep(0.03 + 0.12 + 0.03 + 0.05)
    assert [data["attempt"] for _, data, _ in app.sent] == [1, 2]
    assert world.recorder.statuses[message.id] == "failed"
    assert [a.status.value for a in world.recorder.of(message.id)] == ["expired", "failed"]


async def test_a_late_ack_during_the_back_off_still_counts() -> None:
    world = World(ack_timeout=0.03, max_attempts=3)
    _, app = world.app("late")
    message = world.message()
    await asyncio.sleep(0.05)  # timed out; the retry waits ~100 ms
    app.ack(0)
    await asyncio.sleep(0.15)
    assert len(app.ids()) == 1
    assert world.recorder.statuses[message.id] == "handled"


async def test_a_departed_instance_hands_its_messages_to_a_sibling_at_once() -> None:
    world = World(ack_timeout=30)
    first, a = world.app("pair")
    _, b = world.app("pair")
    messages = [world.message() for _ in range(4)]
    await settle()
    held_by_a = a.ids()
    world.move(first, AppState.DISCONNECTED)
    await settle()
    assert b.ids()[-2:] == held_by_a  # oldest first
    assert all(data["attempt"] == 2 for _, data, _ in b.sent[-2:])
    for index in range(len(b.sent)):
        b.ack(index)
    assert all(world.recorder.statuses[m.id] == "handled" for m in messages)


async def test_without_a_sibling_messages_wait_for_the_instance_to_resume() -> None:
    world = World(ack_timeout=30)
    session, _ = world.app("solo")
    message = world.message()
    await settle()
    world.move(session, AppState.DISCONNECTED)
    await settle()
    assert world.scheduler.describe()["names"]["solo"]["queued"] == 1
    fresh = FakePeer()
    session.peer = fresh
    world.registry.index_name(session)
    world.move(session, AppState.PAUSED)
    world.move(session, AppState.SCHEDULING)
    await settle()
    assert fresh.ids() == [message.id] and fresh.sent[0][1]["attempt"] == 2


async def test_a_paused_instance_gets_nothing_new_but_its_acks_count() -> None:
    world = World()
    session, peer = world.app("pausable")
    held = world.message()
    await settle()
    world.move(session, AppState.PAUSED)
    later = world.message()
    await settle()
    assert peer.ids() == [held.id]
    assert world.recorder.statuses[later.id] == "unrouted"
    peer.ack(0)
    assert world.recorder.statuses[held.id] == "handled"


async def test_batch_apps_get_messages_when_several_are_ready() -> None:
    world = World()
    _, peer = world.app("bulk", batch={"max": 3})
    messages = [world.message() for _ in range(4)]
    await settle()
    events = [(event, data) for event, data, _ in peer.sent]
    assert events[0][0] == "messages"
    assert [m["id"] for m in events[0][1]["messages"]] == [m.id for m in messages[:3]]
    assert events[1][0] == "message" and events[1][1]["id"] == messages[3].id
    peer.sent[0][2]([{}, {"reply": "two"}, {}])
    assert world.replies == [("bulk-1", messages[1].id, "two")]
    assert sum(status == "handled" for status in world.recorder.statuses.values()) == 3


async def test_idle_apps_hold_no_task_and_a_sender_lasts_only_while_messages_wait() -> None:
    world = World()
    tasks_before = len(asyncio.all_tasks())
    peers = [world.app("idle")[1] for _ in range(20)]
    assert len(asyncio.all_tasks()) == tasks_before
    messages = [world.message() for _ in range(3)]
    await settle()
    assert sorted(id for peer in peers for id in peer.ids()) == [m.id for m in messages]
    assert len(asyncio.all_tasks()) == tasks_before
    world.message()  # a sender starts again for the next one
    await settle()
    assert sum(len(peer.ids()) for peer in peers) == 4


async def test_messages_waiting_behind_a_slow_send_keep_their_order() -> None:
    world = World()
    _, peer = world.app("one-by-one", peer=GatedPeer())
    messages = [world.message(str(n)) for n in range(5)]
    await settle()
    assert peer.ids() == [messages[0].id]  # the others wait for the socket
    more = [world.message(str(n)) for n in range(5, 8)]
    assert isinstance(peer, GatedPeer)
    peer.gate.set()
    await settle()
    assert peer.ids() == [m.id for m in messages + more]


async def test_batch_apps_get_what_waited_behind_a_slow_send_as_one_batch() -> None:
    world = World()
    _, peer = world.app("bulk", peer=GatedPeer(), batch={"max": 10})
    first = world.message()
    await settle()
    waiting = [world.message() for _ in range(4)]
    await settle()
    assert len(peer.sent) == 1
    assert isinstance(peer, GatedPeer)
    peer.gate.set()
    await settle()
    events = [(event, data) for event, data, _ in peer.sent]
    assert events[0] == ("message", events[0][1]) and events[0][1]["id"] == first.id
    assert events[1][0] == "messages"
    assert [m["id"] for m in events[1][1]["messages"]] == [m.id for m in waiting]


async def test_a_departing_instance_stops_its_sender_and_its_waiting_messages_move() -> None:
    world = World(ack_timeout=30)
    tasks_before = len(asyncio.all_tasks())
    leaving, stuck = world.app("pair", peer=GatedPeer())
    messages = [world.message() for _ in range(2)]
    await settle()
    assert stuck.ids() == [messages[0].id] and len(asyncio.all_tasks()) == tasks_before + 1
    _, sibling = world.app("pair")
    world.move(leaving, AppState.DISCONNECTED)
    await settle()
    assert len(asyncio.all_tasks()) == tasks_before
    assert sibling.ids() == [m.id for m in messages]
    assert stuck.ids() == [messages[0].id]  # the second never went out to the gone instance


async def test_a_peer_that_stops_reading_is_closed_and_its_message_goes_elsewhere() -> None:
    world = World(ack_timeout=0.05, max_attempts=3)
    tasks_before = len(asyncio.all_tasks())
    _, stuck = world.app("app", peer=GatedPeer())
    message = world.message()
    await settle()
    _, sibling = world.app("app")
    await asyncio.sleep(0.05 + 0.12 + 0.05)
    assert isinstance(stuck, GatedPeer) and stuck.closed
    assert sibling.ids() == [message.id] and sibling.sent[0][1]["attempt"] == 2
    sibling.ack(0)
    await settle()
    assert world.recorder.statuses[message.id] == "handled"
    assert len(asyncio.all_tasks()) == tasks_before


async def test_an_ack_with_a_reply_hands_it_over() -> None:
    world = World()
    session, peer = world.app("echo")
    message = world.message("hello")
    await settle()
    peer.ack(0, {"reply": "hello back"})
    assert world.replies == [(session.id, message.id, "hello back")]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (None, (False, None, None)),
        ({}, (False, None, None)),
        ({"block": True}, (True, None, None)),
        ({"reply": "x", "id": "ignored"}, (False, "x", None)),
        ({"block": "yes"}, (False, None, ErrorCode.INVALID_PAYLOAD)),
        ({"reply": 5}, (False, None, ErrorCode.INVALID_PAYLOAD)),
        ({"reply": "x" * 70_000}, (False, None, ErrorCode.INVALID_PAYLOAD)),
        ([1], (False, None, ErrorCode.INVALID_PAYLOAD)),
    ],
)
def test_parse_answer(answer: Any, expected: tuple[bool, str | None, ErrorCode | None]) -> None:
    block, reply, error = parse_answer(answer)
    assert (block, reply, error.code if error else None) == expected


async def test_a_long_queue_holds_back_whoever_waits_for_room_until_it_drains() -> None:
    world = World(max_in_flight=1, queue_limit=10)
    _, app = world.app("slow")
    assert world.scheduler.backlog_limit == 5
    for _ in range(8):
        world.message()
    await settle()
    assert world.scheduler.backlog() == 7  # one is in flight
    waiter = asyncio.create_task(world.scheduler.wait_for_room())
    await settle()
    assert not waiter.done()
    app.ack(0)  # the queue is down to six: still too long
    await settle()
    assert not waiter.done()
    app.ack(1)
    await settle()
    assert waiter.done() and world.scheduler.backlog() == 5
    assert world.scheduler.counters["dropped"] == 0


async def test_waiting_for_room_is_bounded() -> None:
    world = World(max_in_flight=1, queue_limit=4)
    world.app("stuck")
    for _ in range(5):
        world.message()
    started = asyncio.get_running_loop().time()
    await world.scheduler.wait_for_room(timeout=0.05)
    assert 0.04 < asyncio.get_running_loop().time() - started < 1
    assert world.scheduler.backlog() == 4
    waiter = asyncio.create_task(world.scheduler.wait_for_room())
    await settle()
    world.scheduler.close()  # nobody waits for a scheduler that has stopped
    await asyncio.wait_for(waiter, 1)


async def test_a_batch_is_queued_in_order_and_shared_out_once_it_is_all_in() -> None:
    world = World(max_in_flight=3)
    _, a = world.app("lb")
    _, b = world.app("lb")
    messages = [world.message_only() for _ in range(8)]
    world.scheduler.dispatch_many(messages)
    await settle()
    assert sorted(a.ids() + b.ids()) == [m.id for m in messages[:6]]
    assert len(a.ids()) == len(b.ids()) == 3
    assert world.scheduler.backlog() == 2
    assert [event for event, _, _ in a.sent] == ["message"] * 3  # no batch: not asked for


async def test_only_the_unanswered_attempt_of_an_instance_times_out() -> None:
    world = World(ack_timeout=0.2, max_attempts=3)
    _, app = world.app("app")
    first, second, third = (world.message() for _ in range(3))
    await settle()
    app.ack(1)
    app.ack(2)
    for _ in range(100):  # the timeout, then the back-off (at most 0.12 s)
        await asyncio.sleep(0.01)
        if len(app.ids()) > 3:
            break
    assert app.ids() == [first.id, second.id, third.id, first.id]
    assert [a.status for a in world.recorder.of(first.id)] == ["expired", "sent"]
    assert world.recorder.statuses == {second.id: "handled", third.id: "handled"}
    app.ack(3)
    assert world.recorder.statuses[first.id] == "handled"


async def test_a_batch_routes_each_message_by_its_own_chat_and_text() -> None:
    world = World()
    _, only_a = world.app("only-a", subscribe={"groups": ["a"]})
    _, everyone = world.app("everyone")
    first = [world.message_only(id="a"), world.message_only(id="b"), world.message_only(id="a")]
    world.scheduler.dispatch_many(first)
    await settle()
    assert only_a.ids() == [first[0].id, first[2].id]
    assert everyone.ids() == [m.id for m in first]
    _, keen = world.app("keen", subscribe={"keywords": ["x"]})
    second = [world.message_only("x marks", id="a"), world.message_only("nothing", id="a")]
    world.scheduler.dispatch_many(second)
    await settle()
    assert keen.ids() == [second[0].id]
    assert only_a.ids()[2:] == [m.id for m in second]


async def test_instances_of_one_name_that_name_drivers_get_only_their_drivers_messages() -> None:
    world = World()
    _, first = world.app("bot", subscribe={"drivers": ["d1"]})
    _, second = world.app("bot", subscribe={"drivers": ["d2"]})
    messages = {}
    for driver in ("d1", "d2", "d1", "d2", "d3"):
        message = world.message_only(f"from {driver}")
        message.driver_id = driver
        world.scheduler.dispatch(message)
        messages.setdefault(driver, []).append(message.id)
    await settle()
    # However loaded each instance is, a message goes to the one of its driver only.
    assert first.ids() == messages["d1"]
    assert second.ids() == messages["d2"]
    assert world.recorder.statuses[messages["d3"][0]] == "unrouted"
