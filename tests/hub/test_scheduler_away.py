"""Away names, a stop that hands work over, and messages recovered after a restart."""

from __future__ import annotations

import asyncio

from kenkogo_master.hub.routing import Matcher
from kenkogo_master.hub.scheduler import AwayName, Shadow
from kenkogo_master.hub.states import AppState
from kenkogo_master.ids import now_ms
from kenkogo_master.protocol.apps import Subscription
from tests.hub.test_scheduler import World, settle


async def test_messages_for_a_name_whose_instance_left_wait_for_the_next_one() -> None:
    world = World()
    session, first = world.app("echo")
    world.move(session, AppState.DISCONNECTED)
    waiting = [world.message(f"while away {n}") for n in range(3)]
    assert world.recorder.statuses == {}  # not unrouted: the name is away
    names = world.scheduler.describe()["names"]
    assert names["echo"]["away"] is True and names["echo"]["queued"] == 3
    _, back = world.app("echo")
    await settle()
    assert back.ids() == [message.id for message in waiting]
    assert first.ids() == []
    assert world.scheduler.describe()["names"]["echo"]["away"] is False


async def test_an_away_name_is_routed_by_what_it_subscribed_to() -> None:
    world = World()
    session, _ = world.app("weather", subscribe={"commands": ["/weather"]})
    world.move(session, AppState.DISCONNECTED)
    other = world.message("hello")
    wanted = world.message("/weather tokyo")
    assert world.recorder.statuses == {other.id: "unrouted"}
    _, back = world.app("weather", subscribe={"commands": ["/weather"]})
    await settle()
    assert back.ids() == [wanted.id]


async def test_an_away_name_that_does_not_block_holds_no_lower_level_back() -> None:
    world = World()
    session, _ = world.app("first", priority=1)
    _, later = world.app("later", priority=5)
    world.move(session, AppState.DISCONNECTED)
    message = world.message()
    await settle()
    assert later.ids() == [message.id]  # at once, though "first" comes first when present
    later.ack(0)
    assert world.recorder.statuses == {}  # still waiting for the away name
    _, back = world.app("first", priority=1)
    await settle()
    assert back.ids() == [message.id]
    back.ack(0, {"block": True})  # too late to stop a level that already had it
    assert world.recorder.statuses == {message.id: "handled"}


async def test_an_away_name_that_blocks_holds_lower_levels_until_its_window_ends() -> None:
    world = World(away_window=0.2)
    guard, _ = world.app("guard", priority=0, block=True)
    _, rest = world.app("rest")
    world.move(guard, AppState.DISCONNECTED)
    message = world.message()
    await settle()
    assert rest.ids() == []  # a blocking name might have stopped it
    await asyncio.sleep(0.35)
    assert world.scheduler.counters["away_expired"] == 1
    guard_attempt = world.recorder.of(message.id)[0]
    assert (guard_attempt.app_name, guard_attempt.status.value, guard_attempt.error) == (
        "guard",
        "failed",
        "no_instance",
    )
    await settle()
    assert rest.ids() == [message.id]  # the guard never saw it, so it blocked nothing
    assert world.scheduler.describe()["names"].get("guard") is None  # forgotten


async def test_an_away_name_that_blocks_stops_lower_levels_once_it_is_back_and_acks() -> None:
    world = World()
    guard, _ = world.app("guard", priority=0, block=True)
    _, rest = world.app("rest")
    world.move(guard, AppState.DISCONNECTED)
    message = world.message()
    _, back = world.app("guard", priority=0, block=True)
    await settle()
    back.ack(0)
    await settle()
    assert rest.ids() == []
    assert world.recorder.statuses == {message.id: "handled"}


async def test_a_name_forgotten_after_its_window_leaves_new_messages_unrouted() -> None:
    world = World(away_window=0.05)
    session, _ = world.app("brief")
    world.move(session, AppState.DISCONNECTED)
    await asyncio.sleep(0.15)
    message = world.message()
    assert world.recorder.statuses == {message.id: "unrouted"}


async def test_names_away_before_a_restart_keep_their_messages() -> None:
    world = World()
    shadow = Shadow(Matcher.build(Subscription(commands=["/ping"])), 10, False)
    world.scheduler.add_away([AwayName("pinger", (shadow,), now_ms())])
    wanted = world.message("/ping")
    other = world.message("pong")
    assert world.recorder.statuses == {other.id: "unrouted"}
    _, back = world.app("pinger", subscribe={"commands": ["/ping"]})
    await settle()
    assert back.ids() == [wanted.id]


async def test_a_stop_hands_nothing_new_out_and_leaves_unfinished_messages_pending() -> None:
    world = World(max_in_flight=1)
    _, peer = world.app("app")
    held = world.message("held")
    acked = world.message("acked in the grace")
    await settle()
    assert peer.ids() == [held.id]
    world.scheduler.stop_sending()
    assert world.scheduler.in_flight() == 1
    queued = world.message("after the stop began")
    peer.ack(0)  # an ack in the grace still counts
    await settle()
    assert peer.ids() == [held.id]  # nothing more is handed out
    assert await world.scheduler.drain(0.1) == 0
    world.scheduler.close()
    assert world.recorder.statuses == {held.id: "handled"}  # the others stay pending
    assert acked.id not in world.recorder.statuses and queued.id not in world.recorder.statuses


async def test_a_recovered_message_skips_the_names_that_acked_it_before() -> None:
    world = World()
    _, first = world.app("first", priority=1)
    _, second = world.app("second", priority=2)
    message = world.message_only()
    world.scheduler.dispatch(message, frozenset({"first"}))
    await settle()
    assert first.ids() == [] and second.ids() == [message.id]
    blocked = world.message_only()
    world.scheduler.dispatch(blocked, frozenset({"first"}), blocked=True)
    await settle()
    assert second.ids() == [message.id]
    assert world.recorder.statuses == {blocked.id: "handled"}
