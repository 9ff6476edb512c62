"""AppLifecycle without sockets or SQL: a fake peer, fake records, the real state machine."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from kenkogo_master.api.openapi_shapes import App
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.events import EventBus
from kenkogo_master.hub.lifecycle import AppLifecycle
from kenkogo_master.hub.sessions import AppSession
from kenkogo_master.hub.states import AppState
from kenkogo_master.ids import now_ms
from kenkogo_master.protocol.apps import RegisterRequest
from kenkogo_master.settings import AppSettings


@dataclass
class FakePeer:
    """A connection that remembers what was sent to it."""

    transport: str = "websocket"
    remote: str = "192.0.2.7"
    sent: list[tuple[str, Any]] = field(default_factory=list)
    closed: bool = False

    async def send(self, event: str, data: Any) -> None:
        """Remember an event."""
        self.sent.append((event, data))

    async def request(self, event: str, data: Any, on_answer: Callable[[Any], None]) -> None:
        """Remember an event that expects an answer."""
        self.sent.append((event, data))

    async def close(self) -> None:
        """Remember being closed."""
        self.closed = True

    def events(self, name: str) -> list[Any]:
        """Return the data of every `name` event sent."""
        return [data for event, data in self.sent if event == name]


@dataclass
class FakeRecords:
    """What the lifecycle writes, kept in lists."""

    held: set[str] = field(default_factory=set)
    stale: int = 0
    connections: list[tuple[str, str, str]] = field(default_factory=list)
    registrations: list[tuple[str, str]] = field(default_factory=list)
    transitions: list[tuple[str, str, str, str]] = field(default_factory=list)
    holds: list[tuple[str, bool]] = field(default_factory=list)
    closed_stale_with: list[str] = field(default_factory=list)

    async def held_names(self) -> set[str]:
        """Return the held names."""
        return set(self.held)

    async def recent_registrations(self, since_ms: int) -> list[Any]:
        return []

    async def close_stale(self, reason: str, at_ms: int) -> int:
        """Pretend to close what an earlier run left open."""
        self.closed_stale_with.append(reason)
        return self.stale

    async def connected(self, instance_id: str, remote: str, transport: str, at_ms: int) -> None:
        """Record a connection."""
        self.connections.append((instance_id, remote, transport))

    async def registered(
        self, instance_id: str, registration: dict[str, Any], remote: str, transport: str, at: int
    ) -> None:
        """Record a registration."""
        self.registrations.append((instance_id, registration["name"]))

    async def transition(
        self,
        instance_id: str,
        from_state: str,
        to_state: str,
        reason: str,
        at_ms: int,
    ) -> None:
        """Record a transition."""
        self.transitions.append((instance_id, from_state, to_state, reason))

    async def set_hold(self, name: str, held: bool, at_ms: int) -> None:
        """Record a hold or release."""
        self.holds.append((name, held))

    def of(self, instance_id: str) -> list[tuple[str, str, str]]:
        """Return one instance's transitions as (from, to, reason)."""
        return [(f, t, r) for i, f, t, r in self.transitions if i == instance_id]


class FakeTexts:
    """Texts as `<locale>|<key>`, so tests see which key in which locale was used."""

    def text(self, key: str, locale: str | None, /, **params: Any) -> str:
        """Return a recognisable text."""
        return f"{locale}|{key}"


@dataclass
class Setup:
    """A lifecycle with its fakes."""

    lifecycle: AppLifecycle
    records: FakeRecords
    transitions_seen: list[tuple[str, AppState, AppState]]

    async def registered(self, name: str = "weather", **fields: Any) -> tuple[AppSession, Any]:
        """Connect a fake peer and register it; run the follow-up; return session and peer."""
        peer = FakePeer()
        session = await self.lifecycle.connect(peer)
        session, ack, after = await self.lifecycle.register(session, request(name, **fields))
        assert ack["success"] is True
        await after()
        return session, peer


def request(name: str = "weather", **fields: Any) -> RegisterRequest:
    """Build a register request."""
    return RegisterRequest.model_validate({"name": name, "version": "1.0", **fields})


def make(records: FakeRecords | None = None, **settings: float) -> Setup:
    """Build a lifecycle on fakes."""
    records = records or FakeRecords()
    lifecycle = AppLifecycle(
        AppSettings(**settings),
        records,  # type: ignore[arg-type]
        EventBus(),
        FakeTexts(),
        lambda tag: tag.replace("-", "_"),
    )
    seen: list[tuple[str, AppState, AppState]] = []
    lifecycle.on_transition(lambda session, old, new: seen.append((session.id, old, new)))
    return Setup(lifecycle, records, seen)


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    """A started lifecycle with default settings, stopped afterwards."""
    made = make()
    await made.lifecycle.start()
    yield made
    await made.lifecycle.stop()


async def test_connect_admits_a_connection_in_state_connected(setup: Setup) -> None:
    peer = FakePeer()

    session = await setup.lifecycle.connect(peer)

    assert session.state is AppState.CONNECTED
    assert setup.lifecycle.registry.get(session.id) is session
    assert setup.records.connections == [(session.id, "192.0.2.7", "websocket")]
    assert peer.sent == []


async def test_register_pauses_then_schedules_and_tells_the_app_after_the_ack(
    setup: Setup,
) -> None:
    peer = FakePeer()
    session = await setup.lifecycle.connect(peer)

    session, ack, after = await setup.lifecycle.register(session, request(locale="zh-Hans"))

    assert ack == {
        "success": True,
        "id": session.id,
        "state": "scheduling",
        "heartbeat_interval": 30,
    }
    assert peer.sent == []  # the state event waits for the ack to go out
    await after()
    assert peer.sent == [
        ("state", {"state": "scheduling", "reason": "zh_Hans|state.scheduling_started"})
    ]
    assert session.state is AppState.SCHEDULING
    assert session.locale == "zh_Hans"
    assert setup.records.registrations == [(session.id, "weather")]
    assert setup.records.of(session.id) == [
        ("connected", "paused", "state.registered"),
        ("paused", "scheduling", "state.scheduling_started"),
    ]
    assert setup.transitions_seen == [
        (session.id, AppState.CONNECTED, AppState.PAUSED),
        (session.id, AppState.PAUSED, AppState.SCHEDULING),
    ]
    assert setup.lifecycle.registry.named("weather") == [session]


async def test_instances_registering_the_same_request_share_one_copy(setup: Setup) -> None:
    first, _ = await setup.registered("weather", subscribe={"keywords": ["rain"]})
    second, _ = await setup.registered("weather", subscribe={"keywords": ["rain"]})
    other, _ = await setup.registered("weather", subscribe={"keywords": ["snow"]})

    assert first.registration is second.registration
    assert other.registration is not first.registration
    assert other.registration is not None and other.registration.subscribe.keywords == ["snow"]
    assert App.of(first, held=False).subscribe == {"keywords": ["rain"]}
    assert [s.id for s in setup.lifecycle.registry.named("weather")] == [
        first.id,
        second.id,
        other.id,
    ]


async def test_a_held_name_registers_and_stays_paused(setup: Setup) -> None:
    await setup.lifecycle.hold("weather")

    session, peer = await setup.registered("weather")

    assert session.state is AppState.PAUSED
    assert peer.events("state") == [{"state": "paused", "reason": "None|state.name_held"}]
    assert setup.records.holds == [("weather", True)]


async def test_second_register_raises_already_registered(setup: Setup) -> None:
    session, _ = await setup.registered()

    with pytest.raises(HubError) as raised:
        await setup.lifecycle.register(session, request("other"))

    assert raised.value.code is ErrorCode.ALREADY_REGISTERED
    assert raised.value.params == {"id": session.id}
    assert session.name == "weather"
    assert len(setup.records.of(session.id)) == 2


async def test_bad_regex_refuses_the_register_and_keeps_the_connection(setup: Setup) -> None:
    session = await setup.lifecycle.connect(FakePeer())

    with pytest.raises(HubError) as raised:
        await setup.lifecycle.register(session, request(subscribe={"regex": ["ok", "(broken"]}))

    assert raised.value.code is ErrorCode.INVALID_REGEX
    assert raised.value.params["pattern"] == "(broken"
    assert session.state is AppState.CONNECTED
    assert setup.records.of(session.id) == []
    _, ack, _ = await setup.lifecycle.register(session, request())
    assert ack["success"] is True


async def test_operator_pause_and_resume(setup: Setup) -> None:
    session, peer = await setup.registered()

    await setup.lifecycle.pause(session.id)
    assert session.state is AppState.PAUSED
    assert session.paused_by_operator is True
    with pytest.raises(HubError) as twice:
        await setup.lifecycle.pause(session.id)
    await setup.lifecycle.resume(session.id)

    assert twice.value.code is ErrorCode.ILLEGAL_TRANSITION
    assert twice.value.params == {"from_state": "paused", "to_state": "paused"}
    assert session.state is AppState.SCHEDULING
    assert session.paused_by_operator is False
    assert [data["reason"] for data in peer.events("state")] == [
        "None|state.scheduling_started",
        "None|state.paused_by_operator",
        "None|state.resumed_by_operator",
    ]


@pytest.mark.parametrize("action", ["pause", "resume"])
async def test_operator_cannot_move_an_unregistered_connection(setup: Setup, action: str) -> None:
    session = await setup.lifecycle.connect(FakePeer())

    with pytest.raises(HubError) as raised:
        await getattr(setup.lifecycle, action)(session.id)

    assert raised.value.code is ErrorCode.ILLEGAL_TRANSITION
    assert raised.value.params["from_state"] == "connected"
    assert session.state is AppState.CONNECTED


@pytest.mark.parametrize("action", ["pause", "resume", "kick"])
async def test_unknown_id_is_not_found(setup: Setup, action: str) -> None:
    with pytest.raises(HubError) as raised:
        await getattr(setup.lifecycle, action)("no-such-id")

    assert raised.value.code is ErrorCode.NOT_FOUND


async def test_resume_of_a_held_name_is_refused(setup: Setup) -> None:
    session, _ = await setup.registered()
    await setup.lifecycle.hold("weather")

    with pytest.raises(HubError) as raised:
        await setup.lifecycle.resume(session.id)

    assert raised.value.code is ErrorCode.NAME_HELD
    assert session.state is AppState.PAUSED


async def test_hold_and_release_move_only_what_the_hold_paused(setup: Setup) -> None:
    by_hold, hold_peer = await setup.registered()
    by_operator, _ = await setup.registered()
    other, other_peer = await setup.registered("news")
    await setup.lifecycle.pause(by_operator.id)

    paused = await setup.lifecycle.hold("weather")
    resumed = await setup.lifecycle.release("weather")

    assert paused == [by_hold]
    assert resumed == [by_hold]
    assert by_hold.state is AppState.SCHEDULING
    assert by_operator.state is AppState.PAUSED
    assert other.state is AppState.SCHEDULING
    assert len(other_peer.events("state")) == 1
    assert [data["reason"] for data in hold_peer.events("state")][1:] == [
        "None|state.name_held",
        "None|state.name_released",
    ]
    assert setup.records.holds == [("weather", True), ("weather", False)]
    assert "weather" not in setup.lifecycle.registry.held


async def test_kick_tells_closes_and_forbids_resume(setup: Setup) -> None:
    session, peer = await setup.registered()

    await setup.lifecycle.kick(session.id)

    assert peer.events("error") == [{"code": "kicked", "message": "None|error.kicked"}]
    assert peer.closed
    assert session.state is AppState.DISCONNECTED
    assert setup.lifecycle.registry.get(session.id) is None
    assert setup.lifecycle.registry.named("weather") == []
    assert setup.records.of(session.id)[-1] == ("scheduling", "disconnected", "state.kicked")
    await setup.lifecycle.connection_closed(session)  # the socket closing afterwards: no-op
    assert len(setup.records.of(session.id)) == 3
    again, _ = await setup.registered(resume=session.id)
    assert again.id != session.id


async def test_a_closed_connection_can_resume_its_session(setup: Setup) -> None:
    session, old_peer = await setup.registered(subscribe={"keywords": ["rain"]})
    await setup.lifecycle.connection_closed(session)
    assert session.state is AppState.DISCONNECTED
    assert not old_peer.closed

    new_peer = FakePeer(transport="socket.io")
    connection = await setup.lifecycle.connect(new_peer)
    resumed, ack, after = await setup.lifecycle.register(connection, request(resume=session.id))
    await after()

    assert resumed is session
    assert ack["id"] == session.id
    assert session.peer is new_peer
    assert session.state is AppState.SCHEDULING
    assert new_peer.events("state") == [
        {"state": "scheduling", "reason": "None|state.scheduling_started"}
    ]
    assert setup.records.of(connection.id) == [
        ("connected", "disconnected", "state.resumed_elsewhere")
    ]
    assert setup.records.of(session.id)[2:] == [
        ("scheduling", "disconnected", "state.connection_closed"),
        ("disconnected", "paused", "state.resumed"),
        ("paused", "scheduling", "state.scheduling_started"),
    ]
    assert setup.lifecycle.registry.get(connection.id) is None
    assert setup.lifecycle.registry.named("weather") == [session]


async def test_resume_needs_the_same_name(setup: Setup) -> None:
    session, _ = await setup.registered("weather")
    await setup.lifecycle.connection_closed(session)

    other, _ = await setup.registered("news", resume=session.id)
    again, _ = await setup.registered("weather", resume=session.id)

    assert other.id != session.id
    assert again is session  # the failed attempt did not use the session up


async def test_resume_window_closes() -> None:
    made = make(resume_window=0.05)
    session, _ = await made.registered()
    await made.lifecycle.connection_closed(session)
    await asyncio.sleep(0.1)

    again, _ = await made.registered(resume=session.id)

    assert again.id != session.id


async def test_heartbeat_answers_the_clock_and_keeps_the_app_alive(setup: Setup) -> None:
    session, _ = await setup.registered()
    session.last_seen -= 100

    answer = setup.lifecycle.heartbeat(session)

    assert abs(answer["time_ms"] - now_ms()) < 1000
    assert time.monotonic() - session.last_seen < 1


async def test_timeouts_disconnect_the_silent_and_spare_the_lively() -> None:
    made = make(register_timeout=0.1, heartbeat_timeout=0.15)
    await made.lifecycle.start()
    try:
        unregistered_peer = FakePeer()
        unregistered = await made.lifecycle.connect(unregistered_peer)
        silent, silent_peer = await made.registered("silent")
        lively, lively_peer = await made.registered("lively")
        for _ in range(20):
            made.lifecycle.heartbeat(lively)
            await asyncio.sleep(0.025)
    finally:
        await made.lifecycle.stop()

    assert unregistered_peer.events("error") == [
        {"code": "register_timeout", "message": "None|error.register_timeout"}
    ]
    assert unregistered_peer.closed
    assert made.records.of(unregistered.id)[-1] == (
        "connected",
        "disconnected",
        "state.register_timeout",
    )
    assert silent_peer.events("error")[0]["code"] == "heartbeat_timeout"
    assert made.records.of(silent.id)[-1][2] == "state.heartbeat_timeout"
    assert lively_peer.events("error") == []
    assert made.records.of(lively.id)[-1] == (
        "scheduling",
        "disconnected",
        "state.master_stopped",
    )


async def test_start_loads_held_names_and_closes_stale_instances() -> None:
    made = make(FakeRecords(held={"weather"}, stale=3))

    await made.lifecycle.start()
    try:
        session, _ = await made.registered("weather")
    finally:
        await made.lifecycle.stop()

    assert made.records.closed_stale_with == ["state.master_restarted"]
    assert session.state is AppState.DISCONNECTED
    assert made.records.of(session.id)[1] == ("paused", "disconnected", "state.master_stopped")


async def test_stop_disconnects_and_closes_everyone() -> None:
    made = make()
    await made.lifecycle.start()
    connected_peer = FakePeer()
    await made.lifecycle.connect(connected_peer)
    session, peer = await made.registered()

    await made.lifecycle.stop()

    assert connected_peer.closed
    assert peer.closed
    assert session.state is AppState.DISCONNECTED
    assert len(made.lifecycle.registry) == 0
