"""The scheduler (PROTOCOL.md 2.3–2.5): priority levels, one instance per name, acks and retries.

All bookkeeping is synchronous and runs in the caller (ingest, ack callbacks, timers, state
listeners); the only awaits are the sends, done by a sender task that an app instance has only
while messages wait for it, and the rows, written by the recorder in runs. So a message costs no
task and no SQL round trip of its own, and an idle app costs no task at all.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub import backoff
from kenkogo_master.hub.events import EventBus
from kenkogo_master.hub.messages import InboundMessage, MessageStatus
from kenkogo_master.hub.notices import Notifier
from kenkogo_master.hub.recorder import Attempt, DeliveryStatus, Recorder
from kenkogo_master.hub.registry import Registry
from kenkogo_master.hub.routing import Matcher
from kenkogo_master.hub.sessions import AppSession
from kenkogo_master.hub.states import AppState
from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.observability.telemetry import Telemetry
from kenkogo_master.settings import AppSettings

log = logging.getLogger(__name__)

ReplyHook = Callable[[AppSession, InboundMessage, str], None]
# (app name, registered block, away) by ascending priority
Levels = list[list[tuple[str, bool, bool]]]
MAX_REPLY = 65_536
# Batches go only to peers whose request carries one ack for a whole event.
BATCH_TRANSPORTS = frozenset({"socket.io"})
# Back-pressure: a driver's ack waits while a name's queue is longer than this (or half the
# queue limit), so that ingest cannot outrun delivery and push messages out of a full queue;
# it waits at most BACKLOG_WAIT seconds, so that a name nobody takes cannot stop every driver.
# Whatever waits beyond what the instances hold is latency: 200 is two batches of 100, enough
# to keep them busy while the driver's next batch is committed.
BACKLOG_LIMIT = 200
BACKLOG_WAIT = 5.0
# How often a wait for room looks again even when nothing woke it.
ROOM_RECHECK = 1.0


@dataclass(frozen=True, slots=True)
class Shadow:
    """What an instance that left subscribed to: its away name is routed by it."""

    matcher: Matcher
    priority: int
    block: bool


@dataclass(frozen=True, slots=True)
class AwayName:
    """A name without instances whose messages are kept for it, e.g. from the previous run."""

    name: str
    shadows: tuple[Shadow, ...]
    since_ms: int  # when its last instance left (or the Master restarted)


@dataclass(eq=False, slots=True)
class Flight:
    """One message's trip through the priority levels."""

    message: InboundMessage
    payload: dict[str, Any]
    levels: Levels
    level: int = 0
    open: int = 0  # jobs of the current level not finished that lower levels wait for
    outstanding: int = 0  # jobs of every level not finished
    blocked: bool = False
    failed: bool = False
    retried: bool = False  # some attempt went unanswered and another followed
    done: frozenset[str] = frozenset()  # names that acked it before a restart: not sent again
    # Every job of every level opened so far: what a trace built after the fact reads.
    jobs: list[Job] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class Job:
    """A message for one app name: attempts until one is acknowledged or they run out."""

    flight: Flight
    name: str
    gating: bool = True  # lower levels wait for it (False: an away name that does not block)
    blocks_once_acked: bool = False  # an away name registered with block: it blocks if it acks
    attempt: Attempt | None = None
    earlier: list[Attempt] | None = None  # attempts the current one followed (retries only)
    instance: Instance | None = None  # where the current attempt is in flight
    deadline: float = 0.0  # loop time at which the attempt in flight goes unanswered
    timer: asyncio.TimerHandle | None = None  # the back-off before a retry
    avoid: AppSession | None = None  # the instance that failed it last
    done: bool = False


@dataclass(eq=False, slots=True)
class Instance:
    """The scheduler's side of one app session."""

    session: AppSession
    matcher: Matcher
    priority: int
    block: bool
    batch: int  # most messages per `messages` event; 1 sends only `message`
    # Unacked jobs; a dict used as an ordered set, since an empty set costs three times as much
    # and an idle fleet holds one per app.
    inflight: dict[Job, None] = field(default_factory=dict)
    outbox: list[tuple[Job, Attempt]] = field(default_factory=list)  # assigned, not yet sent
    sender: asyncio.Task[None] | None = None  # runs only while the outbox has something
    # One timer for the oldest unacked job's deadline, instead of one per job: jobs enter
    # `inflight` in the order of their deadlines, which all lie ack_timeout after assignment.
    timer: asyncio.TimerHandle | None = None


@dataclass(eq=False, slots=True)
class NameState:
    """One app name: its scheduling instances and its queue."""

    name: str
    instances: list[Instance] = field(default_factory=list)
    queue: deque[Job] = field(default_factory=deque)
    turn: int = 0  # round-robin position
    dropped: int = 0
    expiry: asyncio.TimerHandle | None = None  # the end of the away window
    # While the name has no scheduling instance: what its last ones subscribed to, and since when
    shadows: list[Shadow] = field(default_factory=list)
    away_since_ms: int | None = None


class Scheduler:
    """Route stored messages to apps and see each through to an ack or a failure."""

    def __init__(
        self,
        settings: AppSettings,
        registry: Registry,
        recorder: Recorder,
        notifier: Notifier,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.settings = settings
        self._registry = registry
        self._recorder = recorder
        self._notifier = notifier
        self._telemetry = telemetry or Telemetry.standalone(EventBus())
        self._names: dict[str, NameState] = {}
        self._instances: dict[AppSession, Instance] = {}
        # Registered sessions that are paused (by an operator, or their name is held), with what
        # they subscribe to (prepared when first needed: every registration passes through
        # paused): a message nobody routes but one of these would take is worth a trace.
        self._held_back: dict[AppSession, Matcher | None] = {}
        self._flights: set[Flight] = set()
        self._closed = False
        self._stopping = False  # nothing new is handed out; what is in flight may still be acked
        self._room = asyncio.Event()  # set when a queue got short enough, for wait_for_room
        self._room_waiters = 0
        # While a batch is handled: the names to pump once it is done (an ordered set).
        self._deferred: dict[NameState, None] | None = None
        self.on_reply: ReplyHook | None = None
        self.counters: dict[str, int] = dict.fromkeys(
            (
                "received",
                "unrouted",
                "handled",
                "failed",
                "deliveries",
                "acked",
                "redelivered",
                "expired",
                "dropped",
                "late_acks",
                "batches",
                "away_expired",
            ),
            0,
        )

    @property
    def backlog_limit(self) -> int:
        """Return the queue length past which drivers' acks wait (apps.queue_limit may change)."""
        return max(0, min(BACKLOG_LIMIT, self.settings.queue_limit // 2))

    # -- life -------------------------------------------------------------------------------------

    def stop_sending(self) -> None:
        """Hand nothing out any more: new and queued messages wait for the next start."""
        self._stopping = True
        self._room.set()

    def in_flight(self) -> int:
        """Return how many messages instances hold unacknowledged."""
        return sum(len(instance.inflight) for instance in self._instances.values())

    async def drain(self, grace: float) -> int:
        """Wait up to `grace` s for instances to ack what they hold; return how many remain."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while (held := self.in_flight()) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        return held

    def close(self) -> None:
        """Stop scheduling; what is under way stays pending, for the next start to deliver."""
        self._closed = self._stopping = True
        self._room.set()
        at_ms = now_ms()
        for instance in self._instances.values():
            if instance.sender is not None:
                instance.sender.cancel()
            if instance.timer is not None:
                instance.timer.cancel()
        for state in self._names.values():
            if state.expiry is not None:
                state.expiry.cancel()
            for job in state.queue:
                self._interrupt(job, at_ms)
        for instance in self._instances.values():
            for job in instance.inflight:
                self._interrupt(job, at_ms)
        self._flights.clear()

    def _interrupt(self, job: Job, at_ms: int) -> None:
        if job.timer is not None:
            job.timer.cancel()
        attempt = job.attempt
        if attempt is not None and attempt.status in (DeliveryStatus.PENDING, DeliveryStatus.SENT):
            attempt.status = DeliveryStatus.EXPIRED
            attempt.error = "master_stopped"
            attempt.answered_ms = at_ms
            self._recorder.attempt(attempt)

    # -- messages in ------------------------------------------------------------------------------

    def dispatch(
        self, message: InboundMessage, done: frozenset[str] = frozenset(), blocked: bool = False
    ) -> None:
        """Schedule a committed message, except for the names in `done` (they acked it before;
        `blocked`: one of them stopped lower levels).

        While stopping, the message is left pending: the next start delivers it.
        """
        if not self._stopping:
            self._dispatch(message, None, done, blocked)

    def dispatch_many(self, messages: Sequence[InboundMessage]) -> None:
        """Schedule committed messages, in order; the queues are pumped once, at the end."""
        if len(messages) == 1:
            self.dispatch(messages[0])  # nothing to share: without the batch's bookkeeping
            return
        if self._stopping:
            return
        # Without filters on the text, where a message goes depends on its chat and sender
        # only: the messages of a batch from one chat are routed once.
        routes: dict[tuple[str, str, str, str], Levels] | None = (
            {} if not any(self._reads_text(state) for state in self._names.values()) else None
        )
        with self._pumping_later():
            for message in messages:
                self._dispatch(message, routes)

    @staticmethod
    def _reads_text(state: NameState) -> bool:
        """Tell whether an instance of a name (or what it left behind) filters on the text."""
        matchers = [instance.matcher for instance in state.instances]
        matchers.extend(shadow.matcher for shadow in state.shadows)
        return any(
            matcher.commands is not None
            or matcher.keywords is not None
            or matcher.regexes is not None
            for matcher in matchers
        )

    def _dispatch(
        self,
        message: InboundMessage,
        routes: dict[tuple[str, str, str, str], Levels] | None,
        done: frozenset[str] = frozenset(),
        blocked: bool = False,
    ) -> None:
        self.counters["received"] += 1
        if routes is None:
            levels = self._route(message)
        else:
            chat = message.chat
            where = (message.platform, chat["type"], chat["id"], message.sender["id"])
            cached = routes.get(where)
            levels = routes[where] = self._route(message) if cached is None else cached
        missed = self._missed(message) if not levels and self._held_back else ()
        self._telemetry.message_routed(message, levels, missed)
        if not levels:
            message.settled = True
            self.counters["unrouted"] += 1
            self._recorder.message_status(message.id, MessageStatus.UNROUTED.value)
            return
        payload = message.payload()
        payload["attempt"] = 1  # what a first attempt sends, unless it is traced
        flight = Flight(message, payload, levels, blocked=blocked, done=done)
        self._flights.add(flight)
        self._open_level(flight)

    def _missed(self, message: InboundMessage) -> tuple[str, ...]:
        """Return the names of paused (or held) sessions that would have taken `message`."""
        names: set[str] = set()
        for session, matcher in self._held_back.items():
            registration = session.registration
            if session.name is None or registration is None:
                continue
            if matcher is None:
                matcher = self._held_back[session] = Matcher.build(
                    registration.subscribe, session.regexes
                )
            if matcher.matches(message):
                names.add(session.name)
        return tuple(sorted(names))

    @contextmanager
    def _pumping_later(self) -> Iterator[None]:
        """Defer pumping to the end of the block: a batch pumps each name once, not per item."""
        if self._deferred is not None:
            yield  # an outer block pumps
            return
        deferred: dict[NameState, None] = {}
        self._deferred = deferred
        try:
            yield
        finally:
            self._deferred = None
            for state in deferred:
                self._pump(state)

    def _pump_soon(self, state: NameState) -> None:
        """Pump a name now, or at the end of the batch being handled."""
        if self._deferred is None:
            self._pump(state)
        else:
            self._deferred[state] = None

    def _route(self, message: InboundMessage) -> Levels:
        """Return the matching names grouped by ascending priority, away names included."""
        by_priority: dict[int, list[tuple[str, bool, bool]]] = {}
        for state in self._names.values():
            priority: int | None = None
            block = False
            away = not state.instances
            for target in state.shadows if away else state.instances:
                if target.matcher.matches(message):
                    if priority is None or target.priority < priority:
                        priority = target.priority
                    block = block or target.block
            if priority is not None:
                by_priority.setdefault(priority, []).append((state.name, block, away))
        return [by_priority[priority] for priority in sorted(by_priority)]

    def backlog(self) -> int:
        """Return the length of the longest name queue."""
        return max((len(state.queue) for state in self._names.values()), default=0)

    def room_for_recovery(self, page: int) -> bool:
        """Tell whether `page` more recovered messages fit without pushing any out.

        A name with instances takes them once its queue is short; an away name as long as its
        queue keeps room for them, so that none is dropped before it comes back.
        """
        limit = self.settings.queue_limit - page
        for state in self._names.values():
            if len(state.queue) > (self.backlog_limit if state.instances else limit):
                return False
        return True

    async def wait_for_recovery_room(self, page: int) -> None:
        """Wait until `room_for_recovery(page)`; never gives up, but stops when closed."""
        while not self._closed and not self.room_for_recovery(page):
            self._room.clear()
            self._room_waiters += 1
            try:
                async with asyncio.timeout(ROOM_RECHECK):
                    await self._room.wait()
            except TimeoutError:
                pass
            finally:
                self._room_waiters -= 1

    async def wait_for_room(self, timeout: float = BACKLOG_WAIT) -> None:
        """Wait until no name's queue is longer than `backlog_limit`, `timeout` s at most."""
        limit = self.backlog_limit
        if self.backlog() <= limit:
            return
        self._room_waiters += 1
        try:
            async with asyncio.timeout(timeout):
                while self.backlog() > limit and not self._stopping:
                    self._room.clear()
                    await self._room.wait()
        except TimeoutError:
            pass
        finally:
            self._room_waiters -= 1

    def _open_level(self, flight: Flight) -> None:
        """Send the message to the names of its current level, and on down while none gates."""
        while True:
            touched = []
            for name, block, away in flight.levels[flight.level]:
                if name in flight.done or not away:
                    flight.blocked = flight.blocked or block
                if name in flight.done:
                    continue
                # An away name that does not block holds no lower level up: they go on, and
                # the message waits in its queue for it alone. One that blocks holds them
                # until it acks (and blocks) or its away window ends (and it never saw it).
                job = Job(flight, name, gating=block or not away, blocks_once_acked=block and away)
                flight.jobs.append(job)
                flight.outstanding += 1
                flight.open += job.gating
                self._new_attempt(job)
                touched.append(self._enqueue(job))
            for state in touched:
                self._pump_soon(state)
            if flight.open or flight.blocked or flight.level + 1 >= len(flight.levels):
                break
            flight.level += 1
        if not flight.outstanding:
            self._settle(flight)

    def _finish(self, job: Job, acked: bool, block: bool) -> None:
        job.done = True
        job.instance = None
        flight = job.flight
        flight.outstanding -= 1
        flight.failed = flight.failed or not acked
        if job.gating:
            flight.open -= 1
            flight.blocked = flight.blocked or block or (acked and job.blocks_once_acked)
        if flight.open > 0:
            return
        if job.gating and not flight.blocked and flight.level + 1 < len(flight.levels):
            flight.level += 1
            self._open_level(flight)
            return
        if not flight.outstanding:
            self._settle(flight)

    def _settle(self, flight: Flight) -> None:
        """Record a message's end: every name it went to acked it (handled), or not (failed)."""
        self._flights.discard(flight)
        status = MessageStatus.FAILED if flight.failed else MessageStatus.HANDLED
        self.counters[status.value] += 1
        flight.message.settled = True
        self._recorder.message_status(flight.message.id, status.value)
        self._telemetry.message_settled(flight, status.value)
        # Its jobs point back at it: without that cycle it is freed at once, not by the collector.
        flight.jobs.clear()

    # -- queues and instances ---------------------------------------------------------------------

    def _state(self, name: str) -> NameState:
        state = self._names.get(name)
        if state is None:
            state = self._names[name] = NameState(name)
        return state

    def _new_attempt(self, job: Job) -> Attempt:
        previous = job.attempt
        if previous is not None:  # a retry: the attempts before it are kept for the trace
            if job.earlier is None:
                job.earlier = []
            job.earlier.append(previous)
            job.flight.retried = True
        attempt = Attempt(
            id=new_id(),
            message_id=job.flight.message.id,
            app_name=job.name,
            number=1 if previous is None else previous.number + 1,
            created_ms=now_ms(),
        )
        job.attempt = attempt
        self._recorder.attempt(attempt)
        return attempt

    def _enqueue(self, job: Job, front: bool = False) -> NameState:
        state = self._state(job.name)
        if front:
            state.queue.appendleft(job)
        else:
            state.queue.append(job)
        if len(state.queue) > self.settings.queue_limit:
            # Before dropping, instances with room take from the front (a pump deferred to the
            # end of a batch would come too late for them).
            self._pump(state)
            while len(state.queue) > self.settings.queue_limit:
                self._drop(state, state.queue.popleft())
        if not state.instances and state.expiry is None:
            self._become_away(state, now_ms())
        return state

    def _drop(self, state: NameState, job: Job) -> None:
        """Give up on the oldest queued job of a full queue."""
        state.dropped += 1
        self.counters["dropped"] += 1
        self._fail(job, "queue_limit")

    def _fail(self, job: Job, error: str) -> None:
        attempt = job.attempt
        assert attempt is not None
        attempt.status = DeliveryStatus.FAILED
        attempt.error = error
        attempt.answered_ms = now_ms()
        self._recorder.attempt(attempt)
        self._telemetry.delivery_failed(job.flight.message.id, job.name, error)
        self._finish(job, acked=False, block=False)

    def _pick(
        self, state: NameState, avoid: AppSession | None, driver_id: str | None = None
    ) -> Instance | None:
        """Choose the scheduling instance with the fewest unacked messages, round robin on ties.

        Instances of one name that take messages of some drivers only (OneBot apps, one
        connection per account) are chosen only for messages of those drivers.
        """
        instances = state.instances
        count = len(instances)
        limit = self.settings.max_in_flight
        best: Instance | None = None
        best_index = 0
        fallback: Instance | None = None
        for offset in range(count):
            index = (state.turn + offset) % count
            instance = instances[index]
            load = len(instance.inflight)
            if load >= limit:
                continue
            if driver_id is not None and not instance.matcher.takes_from(driver_id):
                continue
            if instance.session is avoid:
                fallback = instance
                continue
            if best is None or load < len(best.inflight):
                best, best_index = instance, index
        if best is None:
            return fallback
        state.turn = best_index + 1
        return best

    def _pump(self, state: NameState) -> None:
        """Hand queued jobs to instances with room."""
        queue = state.queue
        if queue and state.instances and not self._stopping:
            # One reading of the clocks for every job handed out now.
            loop = asyncio.get_running_loop()
            clocks = (now_ms(), time.monotonic(), loop.time() + self.settings.ack_timeout)
            while queue:
                job = queue[0]
                instance = self._pick(state, job.avoid, job.flight.message.driver_id)
                if instance is None:
                    break
                queue.popleft()
                self._assign(instance, job, loop, clocks)
        if self._room_waiters and len(queue) <= self.backlog_limit:
            self._room.set()

    def _assign(
        self,
        instance: Instance,
        job: Job,
        loop: asyncio.AbstractEventLoop,
        clocks: tuple[int, float, float],
    ) -> None:
        attempt = job.attempt
        assert attempt is not None
        attempt.status = DeliveryStatus.SENT
        session = instance.session
        attempt.instance_id = session.id
        attempt.transport = session.peer.transport
        attempt.sent_ms, attempt.sent_at, job.deadline = clocks
        self._recorder.attempt(attempt)
        job.instance = instance
        instance.inflight[job] = None
        if instance.timer is None:
            instance.timer = loop.call_at(job.deadline, self._check_deadlines, instance)
        instance.outbox.append((job, attempt))
        if instance.sender is None:
            instance.sender = asyncio.create_task(
                self._send_queued(instance), name=f"send-{instance.session.id}"
            )
        self.counters["deliveries"] += 1

    # -- sending ----------------------------------------------------------------------------------

    async def _send_queued(self, instance: Instance) -> None:
        """Send what waits for one instance, in order, batching when several wait; then end."""
        try:
            while instance.outbox:
                waiting, instance.outbox = instance.outbox, []
                if instance.batch == 1 or len(waiting) == 1:
                    for job, attempt in waiting:
                        # A job may have timed out or moved while it waited here.
                        if job.attempt is attempt and job.instance is instance:
                            await self._send_one(instance, job, attempt)
                    continue
                for start in range(0, len(waiting), instance.batch):
                    await self._send_batch(instance, waiting[start : start + instance.batch])
        finally:
            # Only when nothing waits (no await since the check): the next assignment starts
            # a new sender. A sender cancelled before its first step never gets here, but
            # then its instance is gone or the scheduler closed.
            if instance.sender is asyncio.current_task():
                instance.sender = None

    def _payload(self, instance: Instance, job: Job, attempt: Attempt) -> dict[str, Any]:
        """Return one attempt's `message` data, counted (and traced) as it goes out."""
        data = job.flight.payload
        if attempt.number != 1:
            data = {**data, "attempt": attempt.number}
        session = instance.session
        traceparent = self._telemetry.attempt_sent(
            job.flight.message,
            job.name,
            attempt.number,
            session.id,
            instance.matcher.commands,
            session.peer.transport,
        )
        if traceparent is not None:
            data = {**data, "attempt": attempt.number, "traceparent": traceparent}
        return data

    async def _send_one(self, instance: Instance, job: Job, attempt: Attempt) -> None:
        data = self._payload(instance, job, attempt)
        await self._emit(instance, "message", data, self._answer_one(instance, job, attempt))

    async def _send_batch(self, instance: Instance, waiting: list[tuple[Job, Attempt]]) -> None:
        entries = [
            (job, attempt)
            for job, attempt in waiting
            if job.attempt is attempt and job.instance is instance
        ]
        if not entries:
            return
        if len(entries) == 1:
            await self._send_one(instance, *entries[0])
            return
        self.counters["batches"] += 1
        messages = [self._payload(instance, job, attempt) for job, attempt in entries]
        await self._emit(
            instance, "messages", {"messages": messages}, self._answer_many(instance, entries)
        )

    async def _emit(
        self, instance: Instance, event: str, data: Any, on_answer: Callable[..., None]
    ) -> None:
        peer = instance.session.peer
        try:
            # A peer that stops reading must not hold its sender for ever.
            async with asyncio.timeout(self.settings.ack_timeout):
                await peer.request(event, data, on_answer)
        except TimeoutError:
            extra = {"app_id": instance.session.id}
            log.warning("app %s is not reading; closing it", instance.session.id, extra=extra)
            self._notifier.spawn(peer.close(), f"closing {instance.session.id}")
        except Exception:
            # The ack timeout redelivers whatever did not go out.
            extra = {"app_id": instance.session.id}
            log.exception("sending %s to app %s failed", event, instance.session.id, extra=extra)

    # -- answers ----------------------------------------------------------------------------------

    def _answer_one(self, instance: Instance, job: Job, attempt: Attempt) -> Callable[..., None]:
        def on_answer(*args: Any) -> None:
            clocks = (now_ms(), time.monotonic())
            self._on_answer(instance.session, job, attempt, args[0] if args else None, clocks)

        return on_answer

    def _answer_many(
        self, instance: Instance, entries: list[tuple[Job, Attempt]]
    ) -> Callable[..., None]:
        def on_answer(*args: Any) -> None:
            answers = args[0] if args else None
            if not isinstance(answers, list) or len(answers) != len(entries):
                detail = f"the answer to `messages` must be a list of {len(entries)} answers"
                self._notifier.error(
                    instance.session, HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)
                )
                answers = answers if isinstance(answers, list) else []
            clocks = (now_ms(), time.monotonic())  # one reading for the whole batch
            with self._pumping_later():
                for index, (job, attempt) in enumerate(entries):
                    answer = answers[index] if index < len(answers) else None
                    self._on_answer(instance.session, job, attempt, answer, clocks)

        return on_answer

    def _on_answer(
        self, session: AppSession, job: Job, attempt: Attempt, data: Any, clocks: tuple[int, float]
    ) -> None:
        """Take an app's acknowledgement of one attempt; `clocks` are (epoch ms, monotonic)."""
        block, reply, error = parse_answer(data)
        if error is not None:
            self._notifier.error(session, error, message_id=job.flight.message.id)
        # A reply counts whenever it comes: the app did the work, even if late.
        if reply and self.on_reply is not None:
            self.on_reply(session, job.flight.message, reply)
        # An ack of the current attempt counts, also during the back-off after its timeout.
        if job.done or job.attempt is not attempt:
            self.counters["late_acks"] += 1
            return
        if job.timer is not None:
            job.timer.cancel()
            job.timer = None
        instance = job.instance
        if instance is not None:
            instance.inflight.pop(job, None)
        attempt.status = DeliveryStatus.ACKED
        attempt.error = None
        attempt.answered_ms = clocks[0]
        attempt.latency_ms = round((clocks[1] - attempt.sent_at) * 1000, 3)
        attempt.blocked = block
        self._recorder.attempt(attempt)
        self._telemetry.attempt_acked(job.flight.message.id, job.name, attempt.number, block)
        self.counters["acked"] += 1
        self._finish(job, acked=True, block=block)
        state = self._names.get(job.name)
        if state is not None and state.queue:
            self._pump_soon(state)

    def _check_deadlines(self, instance: Instance) -> None:
        """Time out the instance's jobs whose deadline has passed; wait for the next one."""
        instance.timer = None
        if self._closed or self._instances.get(instance.session) is not instance:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        late: list[Job] = []
        for job in instance.inflight:
            if job.deadline > now:
                instance.timer = loop.call_at(job.deadline, self._check_deadlines, instance)
                break
            late.append(job)
        with self._pumping_later():
            for job in late:
                if job.attempt is not None:
                    self._on_timeout(job, job.attempt)

    def _on_timeout(self, job: Job, attempt: Attempt) -> None:
        """An attempt went unanswered: retry after a back-off, or give up."""
        if job.done or job.attempt is not attempt:
            return
        instance = job.instance
        job.instance = None
        if instance is not None:
            instance.inflight.pop(job, None)
            job.avoid = instance.session
        if attempt.number >= self.settings.max_attempts:
            self._fail(job, "ack_timeout")
        else:
            attempt.status = DeliveryStatus.EXPIRED
            attempt.error = "ack_timeout"
            attempt.answered_ms = now_ms()
            self._recorder.attempt(attempt)
            self._telemetry.attempt_expired(job.flight.message.id, job.name, "ack_timeout")
            self.counters["expired"] += 1
            delay = backoff.delay(attempt.number)
            job.timer = asyncio.get_running_loop().call_later(delay, self._retry, job)
        state = self._names.get(job.name)
        if state is not None and state.queue:
            self._pump_soon(state)

    def _retry(self, job: Job) -> None:
        job.timer = None
        if job.done or self._stopping:
            return  # a stop leaves it pending: the next start delivers it
        self.counters["redelivered"] += 1
        self._new_attempt(job)
        self._pump(self._enqueue(job, front=True))

    # -- app states -------------------------------------------------------------------------------

    def on_transition(self, session: AppSession, from_state: AppState, to_state: AppState) -> None:
        """Follow the app state machine (an AppLifecycle transition listener)."""
        if self._closed or session.name is None:
            return
        if to_state is AppState.PAUSED:
            self._held_back[session] = None
        elif from_state is AppState.PAUSED:
            self._held_back.pop(session, None)
        if to_state is AppState.SCHEDULING:
            self._scheduling(session)
        elif from_state is AppState.SCHEDULING and to_state is AppState.PAUSED:
            self._paused(session)
        elif to_state is AppState.DISCONNECTED:
            self._left(session)

    def _scheduling(self, session: AppSession) -> None:
        registration = session.registration
        assert registration is not None and session.name is not None
        batch = registration.batch.max if registration.batch is not None else 1
        if session.peer.transport not in BATCH_TRANSPORTS:
            batch = 1
        instance = self._instances.get(session)
        matcher = Matcher.build(registration.subscribe, session.regexes)
        if instance is None:
            instance = Instance(session, matcher, registration.priority, registration.block, batch)
            self._instances[session] = instance
        else:
            instance.matcher = matcher
            instance.priority = registration.priority
            instance.block = registration.block
            instance.batch = batch
        state = self._state(session.name)
        if instance not in state.instances:
            state.instances.append(instance)
        if state.expiry is not None:
            state.expiry.cancel()
            state.expiry = None
        state.shadows.clear()  # the instances say what the name wants now
        state.away_since_ms = None
        self._pump(state)

    def _paused(self, session: AppSession) -> None:
        instance = self._instances.get(session)
        state = self._names.get(session.name or "")
        if instance is not None and state is not None and instance in state.instances:
            state.instances.remove(instance)

    def _left(self, session: AppSession) -> None:
        """Take back what a gone instance held: to a sibling now, or to it when it resumes."""
        instance = self._instances.pop(session, None)
        if instance is None:
            return
        if instance.sender is not None:
            instance.sender.cancel()
        if instance.timer is not None:
            instance.timer.cancel()
            instance.timer = None
        state = self._state(session.name or "")
        if instance in state.instances:
            state.instances.remove(instance)
        at_ms = now_ms()
        shadow = Shadow(instance.matcher, instance.priority, instance.block)
        if shadow not in state.shadows:
            state.shadows.append(shadow)
        if not state.instances and state.expiry is None:
            self._become_away(state, at_ms)
        # Oldest first, so that the queue keeps their order once each goes to the front.
        jobs = sorted(instance.inflight, key=lambda job: job.flight.message.id, reverse=True)
        instance.inflight.clear()
        instance.outbox.clear()
        for job in jobs:
            if job.timer is not None:
                job.timer.cancel()
                job.timer = None
            job.instance = None
            job.avoid = session
            attempt = job.attempt
            assert attempt is not None
            if attempt.number >= self.settings.max_attempts:
                self._fail(job, "instance_left")
                continue
            attempt.status = DeliveryStatus.EXPIRED
            attempt.error = "instance_left"
            attempt.answered_ms = at_ms
            self._recorder.attempt(attempt)
            self._telemetry.attempt_expired(job.flight.message.id, job.name, "instance_left")
            self.counters["redelivered"] += 1
            self._new_attempt(job)
            self._enqueue(job, front=True)
        self._pump(state)

    # -- away names -------------------------------------------------------------------------------

    def add_away(self, names: Sequence[AwayName]) -> None:
        """Know names whose instances were there lately (before a restart): keep their messages."""
        at_ms = now_ms()
        for away in names:
            state = self._state(away.name)
            if state.instances:
                continue
            state.shadows = list(away.shadows)
            if state.expiry is None:
                self._become_away(state, away.since_ms, at_ms)

    def _become_away(self, state: NameState, since_ms: int, at_ms: int | None = None) -> None:
        """Keep a name's messages for the rest of its away window (from `since_ms`)."""
        state.away_since_ms = since_ms
        left_s = (since_ms + self.settings.away_window * 1000 - (at_ms or now_ms())) / 1000
        # A little past the window, so that the registry has forgotten the gone instance.
        loop = asyncio.get_running_loop()
        state.expiry = loop.call_later(max(0.0, left_s) + 0.05, self._expire_away, state)

    def _expire_away(self, state: NameState) -> None:
        """The away window is over: what still waits for the name fails, and it routes no more."""
        state.expiry = None
        if self._closed or state.instances:
            return
        if self._registry.named(state.name):
            # Paused instances (an operator's hold) keep their queue; look again later.
            self._become_away(state, now_ms())
            return
        expired = len(state.queue)
        while state.queue:
            self._fail(state.queue.popleft(), "no_instance")
        if expired:
            self.counters["away_expired"] += expired
            log.warning(
                "app %s stayed away for %.0f s: %d messages waiting for it expired",
                state.name,
                self.settings.away_window,
                expired,
            )
        state.shadows.clear()
        state.away_since_ms = None
        if not state.queue and self._names.get(state.name) is state:
            del self._names[state.name]
        if self._room_waiters:
            self._room.set()

    # -- views ------------------------------------------------------------------------------------

    def explain(self, message: InboundMessage) -> dict[str, Any]:
        """Explain, name by name, where `message` would go now and why (for operators).

        Nothing changes: the instance named is the one the next hand-out would choose.
        """
        names = sorted(set(self._names) | set(self._registry.names()))
        entries = [self._explain_name(name, message) for name in names]
        routable = [entry for entry in entries if entry["matched"] and entry["routable"]]
        levels: dict[int, list[dict[str, Any]]] = {}
        for entry in routable:
            levels.setdefault(entry["priority"], []).append(entry)
        blocker: str | None = None
        for level, priority in enumerate(sorted(levels)):
            for entry in levels[priority]:
                entry["level"] = level
                if blocker is not None:
                    entry["outcome"] = "blocked"
                    entry["why"] = f"{blocker} (registered with block: true) stops lower levels"
                elif entry["status"] == "away":
                    entry["outcome"] = "waits"
                    entry["why"] = "away: kept in its queue for the next instance that registers"
                else:
                    entry["outcome"] = "receives"
            if blocker is None:
                blocking = [entry["name"] for entry in levels[priority] if entry["block"]]
                blocker = blocking[0] if blocking else None
        for entry in entries:
            entry.pop("routable")
        return {
            "unrouted": not routable,
            "levels": [[entry["name"] for entry in levels[p]] for p in sorted(levels)],
            "names": entries,
        }

    def _explain_name(self, name: str, message: InboundMessage) -> dict[str, Any]:
        state = self._names.get(name)
        present = state.instances if state is not None else []
        targets: list[dict[str, Any]] = []
        for instance in present:
            targets.append(self._explain_target(instance.session.id, instance, message))
        status = "scheduling"
        if not present:
            sessions = self._registry.named(name)
            if state is not None and state.shadows and state.away_since_ms is not None:
                status = "away"
                for shadow in state.shadows:
                    targets.append(self._explain_target(None, shadow, message))
            elif sessions:
                status = "held" if name in self._registry.held else "paused"
                for session in sessions:
                    registration = session.registration
                    if registration is None:
                        continue  # connected, not registered: it wants nothing yet
                    matcher = Matcher.build(registration.subscribe, session.regexes)
                    wanted = Shadow(matcher, registration.priority, registration.block)
                    targets.append(self._explain_target(session.id, wanted, message))
            else:
                status = "gone"
        matched = [target for target in targets if target["matched"]]
        entry: dict[str, Any] = {
            "name": name,
            "status": status,
            "matched": bool(matched),
            "routable": status in ("scheduling", "away"),
            "priority": min((target["priority"] for target in matched), default=None),
            "block": any(target["block"] for target in matched),
            "queued": len(state.queue) if state is not None else 0,
            "targets": targets,
            "level": None,
            "outcome": "no_match" if not matched else "not_scheduled",
            "why": None,
            "instance": None,
        }
        if not matched:
            failed = {check["filter"] for target in targets for check in target["filters"]}
            entry["why"] = "no filter set matches: " + ", ".join(sorted(failed)) if failed else None
        elif status in ("paused", "held"):
            entry["why"] = f"its instances are {status}: it receives nothing until resumed"
        if status == "scheduling" and state is not None and matched:
            entry["instance"] = self._explain_pick(state, message.driver_id)
        return entry

    @staticmethod
    def _explain_target(
        instance_id: str | None, target: Instance | Shadow, message: InboundMessage
    ) -> dict[str, Any]:
        checks = target.matcher.checks(message)
        return {
            "instance_id": instance_id,
            "priority": target.priority,
            "block": target.block,
            "matched": all(check["matched"] for check in checks),
            "filters": checks,
        }

    def _explain_pick(self, state: NameState, driver_id: str | None = None) -> dict[str, Any]:
        """Say which instance the next hand-out picks, as `_pick` would, and why."""
        limit = self.settings.max_in_flight
        loads = {instance.session.id: len(instance.inflight) for instance in state.instances}
        turn = state.turn
        chosen = self._pick(state, None, driver_id)
        state.turn = turn  # only looking: the next hand-out starts where it would have
        if chosen is None:
            why = f"every instance holds max_in_flight ({limit}) messages: it waits in the queue"
            return {"id": None, "why": why, "loads": loads}
        fewest = len(chosen.inflight)
        ties = sum(1 for load in loads.values() if load == fewest)
        why = f"fewest unacknowledged messages ({fewest} of at most {limit})"
        if ties > 1:
            why += f"; round robin among the {ties} with as few"
        return {"id": chosen.session.id, "why": why, "loads": loads}

    def describe(self) -> dict[str, Any]:
        """Return queues and loads, for operators."""
        return {
            "counters": dict(self.counters),
            "in_progress": len(self._flights),
            "names": {
                state.name: {
                    "queued": len(state.queue),
                    "away": not state.instances and state.away_since_ms is not None,
                    "away_since_ms": None if state.instances else state.away_since_ms,
                    "dropped": state.dropped,
                    "instances": {
                        instance.session.id: len(instance.inflight) for instance in state.instances
                    },
                }
                for state in self._names.values()
            },
        }


def parse_answer(data: Any) -> tuple[bool, str | None, HubError | None]:
    """Read an ack: `{}`, `{"block": true}`, `{"reply": "text"}`; bad ones count as `{}`."""
    if data is None:
        return False, None, None
    if not isinstance(data, dict):
        detail = "an answer to `message` must be an object"
        return False, None, HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)
    block = data.get("block", False)
    reply = data.get("reply")
    problems = []
    if not isinstance(block, bool):
        problems.append("block: must be a boolean")
        block = False
    if reply is not None and (not isinstance(reply, str) or len(reply) > MAX_REPLY):
        problems.append(f"reply: must be a string of at most {MAX_REPLY} characters")
        reply = None
    if problems:
        return block, reply, HubError(ErrorCode.INVALID_PAYLOAD, detail="; ".join(problems))
    return block, reply, None
