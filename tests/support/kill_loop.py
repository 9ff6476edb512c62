"""The kill loop: steady traffic through a Master killed and stopped at random moments.

A driver sends one event after another, reconnecting by itself after each restart and sending
again (same `platform_message_id`) what was not acked. Apps of two names at two priorities ack
everything, reconnect by themselves (a new connection under the same name, no `resume`) and note
what they receive. The Master is SIGKILLed or SIGTERMed at seeded random moments and started
again on the same data directory. After the last restart, once things settle (bounded), the
report says what was acked but not stored (read from the SQLite file), acked but never delivered
(per app name), delivered more than once, and delivered out of order within a chat.

    plan = KillLoopPlan(kills=10, seed=seed())
    report = await run_kill_loop(restartable_master(**plan.settings), plan)
    assert report.lost == 0, report.summary()
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from socketio.exceptions import SocketIOError

from tests.support.flow_clients import FlowApp, SioDriver
from tests.support.process import DRIVER_TOKEN, RestartableMaster

SEED_VARIABLE = "KILL_LOOP_SEED"  # set it to replay a run: the seed is printed at the start


def seed() -> int:
    """Return the seed from KILL_LOOP_SEED, or a fresh random one."""
    given = os.environ.get(SEED_VARIABLE)
    return int(given) if given else random.SystemRandom().randrange(2**32)


@dataclass(frozen=True)
class AppSpec:
    """An app name of the loop: its priority and how many instances serve it."""

    name: str
    priority: int
    instances: int


@dataclass(frozen=True)
class KillLoopPlan:
    """What the loop does: how many stops, how long each run lives, what traffic it carries."""

    seed: int
    kills: int = 10
    up: tuple[float, float] = (1.5, 3.5)  # seconds a run serves before its stop, at random
    down: tuple[float, float] = (0.0, 0.5)  # seconds between a stop and the next start
    sigterm_share: float = 0.4  # the others are SIGKILLs
    stop_timeout: float = 15.0  # a SIGTERMed run must be gone by then (stop_grace is 5 s)
    chats: int = 4
    send_pause: float = 0.01  # between one acked event and the next
    # Apps come back the way Socket.IO clients do, after a second or so (the driver at once),
    # and take a moment over each message, so that some are always out at a stop.
    app_reconnect: tuple[float, float] = (0.3, 1.5)
    app_work: tuple[float, float] = (0.0, 0.01)
    settle: float = 20.0  # at most this long for the last deliveries after the last restart
    apps: tuple[AppSpec, ...] = (AppSpec("alpha", 1, 2), AppSpec("beta", 5, 1))
    settings: dict[str, str] = field(
        default_factory=lambda: {"apps__ack_timeout": "3", "apps__recovery_delay": "1"}
    )


@dataclass(frozen=True)
class Arrival:
    """One message as an app instance received it."""

    message_id: str
    chat: str
    number: int  # the driver's sequence number: the order in which it was acked


@dataclass
class KillLoopReport:
    """What a kill loop found."""

    seed: int
    stops: list[str]
    acked: int
    not_stored: list[str]  # pids acked whose message is not in SQL
    not_delivered: dict[str, list[str]]  # app name -> acked message ids it never received
    duplicates: dict[str, int]  # app name -> receptions beyond the first
    out_of_order: dict[str, int]  # app name -> messages received after a later one of their chat
    refusals: dict[str, int]  # the driver's refusals by error code
    resent: int
    bad_exits: list[str]  # SIGTERMed runs that did not exit 0
    seconds: float

    @property
    def lost(self) -> int:
        """Return how many acked messages were not stored or never reached an app name."""
        return len(self.not_stored) + sum(len(ids) for ids in self.not_delivered.values())

    def summary(self) -> str:
        """Return the report as a few lines for a person."""
        lines = [
            f"kill loop, seed {self.seed} (replay with {SEED_VARIABLE}={self.seed}):"
            f" {len(self.stops)} stops in {self.seconds:.0f} s",
            f"  stops: {', '.join(self.stops)}",
            f"  acked by the Master: {self.acked}; resent by the driver: {self.resent};"
            f" refusals: {dict(self.refusals) or 'none'}",
            f"  acked but not stored: {len(self.not_stored)} {self.not_stored[:5]}",
        ]
        for name, missing in self.not_delivered.items():
            lines.append(
                f"  {name}: acked but never delivered {len(missing)} {missing[:5]},"
                f" delivered more than once {self.duplicates[name]},"
                f" out of order within a chat {self.out_of_order[name]}"
            )
        if self.bad_exits:
            lines.append(f"  SIGTERMed runs that did not exit 0: {self.bad_exits}")
        return "\n".join(lines)


async def call_unless_dropped(driver: SioDriver, event: str, data: Any, timeout: float) -> Any:
    """Emit and return the ack; raise ConnectionError as soon as the connection drops."""
    call = asyncio.ensure_future(driver.call(event, data, timeout=timeout))
    dropped = asyncio.ensure_future(driver.disconnected.wait())
    try:
        await asyncio.wait({call, dropped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        dropped.cancel()
    if not call.done():
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError, SocketIOError):
            await call
        raise ConnectionError("the Master dropped the connection")
    return call.result()


class LoopDriver:
    """A driver that sends one event after another, each until it is acked."""

    def __init__(self, url: str, plan: KillLoopPlan) -> None:
        self.url = url
        self.plan = plan
        self.acked: dict[int, tuple[str, str]] = {}  # number -> (pid, message id)
        self.refusals: Counter[str] = Counter()
        self.resent = 0
        self.stopping = asyncio.Event()
        self._driver: SioDriver | None = None

    async def run(self) -> None:
        """Send until asked to stop; the event under way is still sent until acked."""
        number = 0
        while not self.stopping.is_set():
            await self._send_until_acked(number)
            number += 1
            await asyncio.sleep(self.plan.send_pause)
        await self._drop()

    async def _send_until_acked(self, number: int) -> None:
        pid = f"k-{number}"
        data = {
            "platform_message_id": pid,
            "chat": {"type": "group", "id": str(number % self.plan.chats)},
            "sender": {"id": "200", "name": "Alice"},
            "content": f"n {number}",
        }
        first = True
        while True:
            if not first:
                self.resent += 1
            first = False
            driver = await self._connected()
            try:
                answer = await call_unless_dropped(driver, "event", data, timeout=5)
            except (ConnectionError, SocketIOError):
                await self._drop()
                continue
            if isinstance(answer, dict) and answer.get("success") is True:
                self.acked[number] = (pid, answer["id"])
                return
            code = answer.get("error", {}).get("code") if isinstance(answer, dict) else None
            self.refusals[str(code)] += 1
            await asyncio.sleep(0.1)

    async def _connected(self) -> SioDriver:
        """Return a registered driver connection, connecting (again) until it works."""
        while self._driver is None or not self._driver.client.connected:
            await self._drop()
            driver = SioDriver(self.url)
            try:
                await driver.connect(DRIVER_TOKEN)
                registered = await driver.register("qq", "10001")
            except (SocketIOError, OSError, TimeoutError):
                await driver.close()
                await asyncio.sleep(0.2)
                continue
            if registered.get("success") is not True:
                await driver.close()
                await asyncio.sleep(0.2)
                continue
            self._driver = driver
        return self._driver

    async def _drop(self) -> None:
        if self._driver is not None:
            with contextlib.suppress(SocketIOError, OSError):
                await self._driver.close()
            self._driver = None


class LoopApp:
    """One instance of an app name that acks everything, reconnecting by itself."""

    def __init__(
        self,
        url: str,
        spec: AppSpec,
        arrivals: list[Arrival],
        plan: KillLoopPlan,
        rng: random.Random,
    ) -> None:
        self.url = url
        self.spec = spec
        self.arrivals = arrivals  # shared by the instances of the name, in arrival order
        self.plan = plan
        self.rng = rng
        self.connections = 0

    async def _handle(self, message: dict[str, Any]) -> dict[str, Any]:
        number = int(message["content"].split()[1])
        self.arrivals.append(Arrival(message["id"], message["chat"]["id"], number))
        await asyncio.sleep(self.rng.uniform(*self.plan.app_work))
        return {}

    async def run(self) -> None:
        """Serve until cancelled, reconnecting after a pause whenever the connection drops."""
        while True:
            app = FlowApp(self.url, self._handle)
            try:
                await app.connect()
                ack = await app.register(self.spec.name, priority=self.spec.priority)
            except (SocketIOError, OSError, TimeoutError):
                ack = {}
            if ack.get("success") is not True:
                await app.close()
                await asyncio.sleep(self.rng.uniform(*self.plan.app_reconnect))
                continue
            self.connections += 1
            try:
                await self._serve(app)
            finally:
                with contextlib.suppress(SocketIOError, OSError):
                    await app.close()
            await asyncio.sleep(self.rng.uniform(*self.plan.app_reconnect))

    async def _serve(self, app: FlowApp) -> None:
        """Heartbeat until the connection drops (the loop's end cancels this)."""
        while not app.disconnected.is_set():
            try:
                await asyncio.wait_for(app.disconnected.wait(), 10)
            except TimeoutError:
                with contextlib.suppress(SocketIOError, TimeoutError):
                    await app.call("heartbeat")


async def _stop_and_start(
    master: RestartableMaster, plan: KillLoopPlan, rng: random.Random, stops: list[str]
) -> list[str]:
    """Run the stops: serve a while, SIGKILL or SIGTERM, start again; return bad exits."""
    bad_exits: list[str] = []
    for index in range(plan.kills):
        up = rng.uniform(*plan.up)
        await asyncio.sleep(up)
        how = signal.SIGTERM if rng.random() < plan.sigterm_share else signal.SIGKILL
        if how is signal.SIGKILL:
            await master.kill()
        else:
            code = await master.terminate(plan.stop_timeout)
            if code != 0:
                bad_exits.append(f"stop {index + 1}: exit code {code}")
        stops.append(f"{how.name[3:]}@{up:.1f}s")
        await asyncio.sleep(rng.uniform(*plan.down))
        await master.start()
    return bad_exits


def _out_of_order(arrivals: list[Arrival]) -> int:
    """Count first arrivals that came after a later message of the same chat."""
    seen: set[str] = set()
    latest: dict[str, int] = {}
    late = 0
    for arrival in arrivals:
        if arrival.message_id in seen:
            continue
        seen.add(arrival.message_id)
        if arrival.number < latest.get(arrival.chat, -1):
            late += 1
        latest[arrival.chat] = max(latest.get(arrival.chat, -1), arrival.number)
    return late


async def run_kill_loop(master: RestartableMaster, plan: KillLoopPlan) -> KillLoopReport:
    """Run the loop against `master` (not started yet) and report what it found."""
    print(f"kill loop: seed {plan.seed} ({SEED_VARIABLE}={plan.seed} replays it)", flush=True)
    loop = asyncio.get_running_loop()
    began = loop.time()
    rng = random.Random(plan.seed)
    await master.start()
    arrivals: dict[str, list[Arrival]] = {spec.name: [] for spec in plan.apps}
    apps = [
        LoopApp(
            master.url,
            spec,
            arrivals[spec.name],
            plan,
            random.Random(f"{plan.seed}-{spec.name}-{index}"),
        )
        for spec in plan.apps
        for index in range(spec.instances)
    ]
    driver = LoopDriver(master.url, plan)
    tasks = [asyncio.create_task(app.run()) for app in apps]
    sending = asyncio.create_task(driver.run())
    stops: list[str] = []
    try:
        bad_exits = await _stop_and_start(master, plan, rng, stops)
        await asyncio.sleep(1.0)  # some traffic through the last run too
        driver.stopping.set()
        deadline = loop.time() + plan.settle
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(sending), plan.settle)
        wanted = {message_id for _, message_id in driver.acked.values()}
        while loop.time() < deadline and any(
            wanted - {arrival.message_id for arrival in arrivals[name]} for name in arrivals
        ):
            await asyncio.sleep(0.2)
        stored = master.messages()
    finally:
        driver.stopping.set()
        for task in [sending, *tasks]:
            if not task.done():
                task.cancel()
        await asyncio.gather(sending, *tasks, return_exceptions=True)
        await driver._drop()

    acked = list(driver.acked.values())
    not_delivered = {
        name: sorted(wanted - {arrival.message_id for arrival in got})
        for name, got in arrivals.items()
    }
    return KillLoopReport(
        seed=plan.seed,
        stops=stops,
        acked=len(acked),
        not_stored=[pid for pid, message_id in acked if stored.get(message_id, ("",))[0] != pid],
        not_delivered=not_delivered,
        duplicates={
            name: len(got) - len({arrival.message_id for arrival in got})
            for name, got in arrivals.items()
        },
        out_of_order={name: _out_of_order(got) for name, got in arrivals.items()},
        refusals=dict(driver.refusals),
        resent=driver.resent,
        bad_exits=bad_exits,
        seconds=loop.time() - began,
    )
