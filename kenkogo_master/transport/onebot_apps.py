"""OneBot v11 toward apps: the Master as the implementation that bots such as NoneBot2 expect.

Two ways in, one connection model: the Master dials each `[[onebot_apps]]` endpoint's reverse
WebSocket once per account it shows the bot (`X-Self-ID`, `X-Client-Role: Universal`), and bots
that dial an implementation themselves connect to /onebot/v11/app/ws. Either way a connection
is an app instance to the hub, transport "onebot", that takes the messages of its account only.

OneBot has no acknowledgements of events: a message counts as acknowledged once its frame is
written (at most once toward the bot). Everything else — priorities, `block` from the
configuration, one instance per name, pause, resume, kick, statistics, traces — is the hub's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import aiohttp
import orjson
from aiohttp import WSMsgType, web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kenkogo_master import __version__
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub import backoff
from kenkogo_master.hub.drivers import DriverSession
from kenkogo_master.hub.hub import Hub
from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.keys import ENGINE, HUB
from kenkogo_master.observability import log_context
from kenkogo_master.protocol import codec
from kenkogo_master.protocol.apps import RegisterRequest
from kenkogo_master.protocol.onebot import parse_id
from kenkogo_master.protocol.onebot_apps import (
    heartbeat_event,
    lifecycle_event,
    message_event,
    notice_event,
)
from kenkogo_master.settings import OneBotAppEntry, OneBotAppFilters
from kenkogo_master.store.onebot_apps import OneBotAppRecords
from kenkogo_master.transport.app_events import describe_validation
from kenkogo_master.transport.onebot_app_actions import Account, Link, MessageIds, perform
from kenkogo_master.transport.onebot_v11 import presented_token
from kenkogo_master.transport.sio_apps import token_accepted
from kenkogo_master.transport.sio_server import hard_frame_limit

log = logging.getLogger(__name__)

FORWARD_PATHS = ("/onebot/v11/app/ws", "/onebot/v11/app/ws/")
VERSION = "onebot-v11"  # the version an instance registers with
USER_AGENT = f"KenkoGo-Master/{__version__} OneBot/11"
CONNECT_TIMEOUT = 10.0
# The kinds a OneBot bot gets unless its filters say otherwise: all an implementation sends.
ONEBOT_EVENTS = ("message", "notice.*", "request.*")
# Actions of one connection running at once; more wait for a turn (bots rarely have a dozen).
ACTIONS_AT_ONCE = 64


class WebSocket(Protocol):
    """What both sides of aiohttp's WebSockets offer: the server's and the client's."""

    @property
    def closed(self) -> bool:
        """Whether the socket is closed."""
        ...

    async def send_str(self, data: str) -> None:
        """Send a text frame."""
        ...

    async def close(self) -> Any:
        """Close the socket."""
        ...


@dataclass(frozen=True, slots=True)
class AppOptions:
    """How one bot registers and hears messages."""

    name: str
    priority: int
    block: bool
    subscribe: OneBotAppFilters
    message_format: str

    @classmethod
    def of(cls, entry: OneBotAppEntry) -> AppOptions:
        """Take the options of a configured or stored endpoint."""
        return cls(entry.name, entry.priority, entry.block, entry.subscribe, entry.message_format)


class OneBotAppPeer:
    """A OneBot bot as the hub sees it: hub events become OneBot events, written in order."""

    transport = "onebot"

    def __init__(self, ws: WebSocket, remote: str, message_format: str) -> None:
        self._ws = ws
        self.remote = remote[:128]
        self._format = message_format
        self._lock = asyncio.Lock()
        self.link: Link | None = None
        self.kicked = False

    async def write(self, frame: dict[str, Any]) -> bool:
        """Write one frame; tell whether it went out."""
        if self._ws.closed:
            return False
        try:
            async with self._lock:
                await self._ws.send_str(codec.dumps(frame))
        except (ConnectionError, RuntimeError):
            return False
        return True

    async def send(self, event: str, data: Any) -> None:
        """Hear the hub's `state` and `error` events, which OneBot has no frames for."""
        if event == "error" and isinstance(data, dict):
            self.kicked = self.kicked or data.get("code") == ErrorCode.KICKED.value
            log.info("OneBot app at %s: %s", self.remote, data.get("message"))

    async def request(self, event: str, data: Any, on_answer: Callable[[Any], None]) -> None:
        """Write messages as OneBot events; each counts as acknowledged once written."""
        link = self.link
        if link is None or event not in ("message", "messages"):
            return
        items = data["messages"] if event == "messages" else [data]
        for item in items:
            if "kind" in item:  # a notice or request: the OneBot event it came as
                frame = notice_event(item, link.account.self_id)
            else:
                number = link.delivered(item)
                frame = message_event(item, link.account.self_id, number, self._format)
            if not await self.write(frame):
                return  # not acknowledged: the scheduler's ack timeout delivers it again
        on_answer({} if event == "message" else [{} for _ in items])

    async def close(self) -> None:
        """Close the connection."""
        await self._ws.close()


def register_request(options: AppOptions, account: Account) -> RegisterRequest:
    """Build the registration of one connection: the bot's options, its account's messages."""
    subscribe = options.subscribe.model_dump(exclude_none=True)
    subscribe["drivers"] = [account.driver_id]
    # A bot hears from an implementation its notices and requests as well as messages.
    subscribe.setdefault("events", list(ONEBOT_EVENTS))
    return RegisterRequest.model_validate(
        {
            "name": options.name,
            "version": VERSION,
            "description": f"OneBot v11 bot, account {account.self_id}",
            "subscribe": subscribe,
            "priority": options.priority,
            "block": options.block,
        }
    )


async def serve(
    hub: Hub,
    ws: WebSocket,
    messages: Any,
    peer: OneBotAppPeer,
    account: Account,
    options: AppOptions,
    ids: MessageIds,
    on_session: Callable[[str | None], None] = lambda _: None,
) -> None:
    """Run one bot connection as an app instance until it closes (`messages`: its frames)."""
    session = await hub.apps.connect(peer)
    log_context.bind(app_id=session.id, remote=peer.remote)
    beat: asyncio.Task[None] | None = None
    running: set[asyncio.Task[None]] = set()
    try:
        # The implementation speaks first: bots that dial learn the account from this event.
        await peer.write(lifecycle_event(account.self_id))
        session, _, after = await hub.apps.register(session, register_request(options, account))
        peer.link = link = Link(hub, account, ids, session)
        on_session(session.id)
        await after()
        beat = asyncio.create_task(_heartbeat(hub, peer, link), name=f"onebot-beat-{session.id}")
        turns = asyncio.Semaphore(ACTIONS_AT_ONCE)
        async for frame in messages:
            if frame.type is WSMsgType.TEXT:
                await turns.acquire()
                task = asyncio.create_task(_answer(peer, link, frame.data, turns))
                running.add(task)
                task.add_done_callback(running.discard)
            elif frame.type is WSMsgType.BINARY:
                log.warning("OneBot app %s sent a binary frame; ignored", session.id)
            elif frame.type in (WSMsgType.ERROR, WSMsgType.CLOSE, WSMsgType.CLOSING):
                break
    except HubError as exc:
        log.warning("OneBot app %s could not register: %s %s", options.name, exc.code, exc.params)
    finally:
        on_session(None)
        if beat is not None:
            beat.cancel()
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await hub.apps.connection_closed(session)


async def _answer(peer: OneBotAppPeer, link: Link, text: str, turns: asyncio.Semaphore) -> None:
    try:
        answer = await perform(link, text)
        if answer is not None:
            await peer.write(answer)
    except Exception:
        # One bad call must not end the bot's connection.
        log.exception("OneBot app %s: answering an action failed", link.session.id)
    finally:
        turns.release()


async def _heartbeat(hub: Hub, peer: OneBotAppPeer, link: Link) -> None:
    """Send heartbeat meta events, and keep the instance alive in the hub while they go out."""
    settings = hub.settings
    interval = min(settings.onebot.app_heartbeat_interval, settings.apps.heartbeat_timeout / 3)
    while True:
        await asyncio.sleep(interval)
        online = hub.drivers.get(link.account.driver_id) is not None
        if not await peer.write(
            heartbeat_event(link.account.self_id, int(interval * 1000), online)
        ):
            return
        if link.session.registered:
            hub.apps.heartbeat(link.session)


def account_of(driver: DriverSession, wanted: list[str]) -> Account | None:
    """Return the driver as a OneBot account, if its self id is a number and it is wanted."""
    try:
        self_id = parse_id(driver.self_id)
    except ValueError:
        return None  # OneBot bots know accounts by number only
    if wanted and str(self_id) not in wanted:
        return None
    return Account(driver.id, self_id, driver.name)


# -- the endpoints the Master dials -------------------------------------------------------------


@dataclass(slots=True)
class Endpoint:
    """One bot to dial: from the configuration (`config-N`) or stored over REST."""

    id: str
    source: Literal["config", "api"]
    entry: OneBotAppEntry
    created_ms: int | None = None


@dataclass(eq=False, slots=True)
class Dial:
    """The connection to one endpoint for one account, kept up by its task."""

    endpoint: Endpoint
    account: Account
    task: asyncio.Task[None] | None = None
    instance_id: str | None = None  # the app instance while connected
    last_error: str | None = None


class OneBotApps:
    """Keep a connection to every endpoint for every account, and serve the bots that dial."""

    def __init__(self, hub: Hub, records: OneBotAppRecords) -> None:
        self._hub = hub
        self._records = records
        self.endpoints: dict[str, Endpoint] = {}
        self._dials: dict[tuple[str, str], Dial] = {}
        self._forward: dict[str, set[OneBotAppPeer]] = {}  # bots that dialed, by driver id
        self.ids = MessageIds()
        self._client: aiohttp.ClientSession | None = None
        self._stopping = False

    async def start(self) -> None:
        """Load the endpoints and dial them for the accounts already attached."""
        timeout = aiohttp.ClientTimeout(total=None, connect=CONNECT_TIMEOUT)
        self._client = aiohttp.ClientSession(timeout=timeout)
        for index, entry in enumerate(self._hub.settings.onebot_apps):
            self.endpoints[f"config-{index}"] = Endpoint(f"config-{index}", "config", entry)
        for row in await self._records.all():
            try:
                entry = OneBotAppEntry.model_validate(
                    {k: v for k, v in row.items() if k not in ("id", "created_ms")}
                )
            except ValidationError as exc:
                log.warning("stored OneBot app %s no longer reads: %s", row["id"], exc)
                continue
            self.endpoints[row["id"]] = Endpoint(row["id"], "api", entry, row["created_ms"])
        drivers = self._hub.drivers
        drivers.on_attach(self._attached)
        drivers.on_detach(self._detached)
        for driver in drivers.live():
            self._attached(driver)

    def stopping(self) -> None:
        """Dial nothing more: the Master is shutting down and closes the connections itself."""
        self._stopping = True

    async def stop(self) -> None:
        """End every dial and close the client."""
        self._stopping = True
        tasks = [dial.task for dial in self._dials.values() if dial.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._dials.clear()
        if self._client is not None:
            await self._client.close()

    # -- endpoints ---------------------------------------------------------------------------------

    async def add(self, entry: OneBotAppEntry) -> Endpoint:
        """Store a new endpoint and dial it; refuse a second one of the same name and URL."""
        for known in self.endpoints.values():
            if known.entry.name == entry.name and known.entry.url == entry.url:
                raise HubError(ErrorCode.ALREADY_EXISTS, path=f"{entry.name} at {entry.url}")
        endpoint = Endpoint(new_id(), "api", entry, now_ms())
        await self._records.add(
            {"id": endpoint.id, "created_ms": endpoint.created_ms, **entry.model_dump(mode="json")}
        )
        self.endpoints[endpoint.id] = endpoint
        for driver in self._hub.drivers.live():
            self._dial(endpoint, driver)
        return endpoint

    async def remove(self, endpoint_id: str) -> None:
        """Delete a stored endpoint and close its connections."""
        endpoint = self.endpoints.get(endpoint_id)
        if endpoint is None:
            raise HubError(ErrorCode.NOT_FOUND, what="OneBot app", id=endpoint_id)
        if endpoint.source == "config":
            raise HubError(ErrorCode.RESTART_REQUIRED, key=f"onebot_apps ({endpoint.entry.name})")
        await self._records.remove(endpoint_id)
        del self.endpoints[endpoint_id]
        for key in [key for key in self._dials if key[0] == endpoint_id]:
            await self._end(self._dials.pop(key))

    def connections(self, endpoint_id: str) -> list[Dial]:
        """Return the dials of an endpoint, one per account."""
        return [dial for key, dial in self._dials.items() if key[0] == endpoint_id]

    # -- accounts ----------------------------------------------------------------------------------

    def _attached(self, driver: DriverSession) -> None:
        for endpoint in self.endpoints.values():
            self._dial(endpoint, driver)

    def _detached(self, driver: DriverSession) -> None:
        for key in [key for key in self._dials if key[1] == driver.id]:
            dial = self._dials.pop(key)
            if dial.task is not None:
                dial.task.cancel()
        for peer in self._forward.pop(driver.id, set()):
            asyncio.get_running_loop().create_task(peer.close())

    def _dial(self, endpoint: Endpoint, driver: DriverSession) -> None:
        if self._stopping or (endpoint.id, driver.id) in self._dials:
            return
        account = account_of(driver, endpoint.entry.accounts)
        if account is None:
            return
        dial = Dial(endpoint, account)
        dial.task = asyncio.get_running_loop().create_task(
            self._keep_dialing(dial), name=f"onebot-dial-{endpoint.entry.name}-{account.self_id}"
        )
        self._dials[(endpoint.id, driver.id)] = dial

    async def _end(self, dial: Dial) -> None:
        if dial.task is not None:
            dial.task.cancel()
            await asyncio.gather(dial.task, return_exceptions=True)

    async def _keep_dialing(self, dial: Dial) -> None:
        """Dial one endpoint for one account, again after every drop, with back-off."""
        retry = 0
        ceiling = self._hub.settings.onebot.app_reconnect_max
        while not self._stopping:
            peer = await self._connect_once(dial, retry)
            if peer is not None:
                retry = 0
            if self._stopping:
                return
            retry += 1
            # A kicked bot waits the longest pause: an operator's kick must not bounce back at once.
            kicked = peer is not None and peer.kicked
            await asyncio.sleep(ceiling if kicked else min(backoff.delay(retry), ceiling))

    async def _connect_once(self, dial: Dial, retry: int) -> OneBotAppPeer | None:
        """Connect and serve until the connection ends; return its peer (None: no connection)."""
        assert self._client is not None
        entry, account = dial.endpoint.entry, dial.account
        headers = {
            "X-Self-ID": str(account.self_id),
            "X-Client-Role": "Universal",
            "User-Agent": USER_AGENT,
        }
        if entry.access_token:
            headers["Authorization"] = f"Bearer {entry.access_token}"
        settings = self._hub.settings
        try:
            async with self._client.ws_connect(
                entry.url,
                headers=headers,
                heartbeat=settings.onebot.ping_interval,
                max_msg_size=hard_frame_limit(settings),
            ) as ws:
                dial.last_error = None
                log.info(
                    "OneBot app %s connected at %s for %s", entry.name, entry.url, account.self_id
                )
                peer = OneBotAppPeer(ws, entry.url, entry.message_format)

                def on_session(instance_id: str | None) -> None:
                    dial.instance_id = instance_id

                await serve(
                    self._hub, ws, ws, peer, account, AppOptions.of(entry), self.ids, on_session
                )
                log.info(
                    "OneBot app %s at %s (%s) disconnected", entry.name, entry.url, account.self_id
                )
                return peer
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            dial.last_error = _describe(exc)
            # The first failure in a row is worth a warning; the retries that follow are not.
            level = logging.WARNING if retry == 0 else logging.DEBUG
            log.log(level, "OneBot app %s at %s: %s", entry.name, entry.url, dial.last_error)
            return None

    # -- bots that dial ----------------------------------------------------------------------------

    def account_for(self, self_id: str | None) -> Account:
        """Choose the account a dialing bot gets: the one it names, or the only one there is."""
        accounts = [
            account
            for driver in self._hub.drivers.live()
            if (account := account_of(driver, [self_id] if self_id else [])) is not None
        ]
        if len(accounts) == 1:
            return accounts[0]
        if not accounts:
            raise HubError(ErrorCode.DRIVER_UNAVAILABLE, driver=self_id or "OneBot account")
        detail = "several accounts are connected: name one with ?self_id="
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)

    async def handle_forward(self, request: web.Request) -> web.StreamResponse:
        """Serve /onebot/v11/app/ws: a bot that dials its implementation."""
        hub = self._hub
        settings = hub.settings
        if settings.apps.require_token:
            presented = presented_token(request)
            if presented is None:
                raise HubError(ErrorCode.UNAUTHORIZED)
            if not token_accepted(presented, settings.apps.tokens):
                raise HubError(ErrorCode.FORBIDDEN)
        try:
            query = ForwardQuery.model_validate(dict(request.query))
        except ValidationError as exc:
            raise HubError(ErrorCode.INVALID_PAYLOAD, detail=describe_validation(exc)) from None
        account = self.account_for(query.self_id)
        ws = web.WebSocketResponse(
            compress=settings.server.websocket_compression,
            max_msg_size=hard_frame_limit(settings),
            heartbeat=settings.onebot.ping_interval,
        )
        if not ws.can_prepare(request).ok:
            raise HubError(ErrorCode.INVALID_PAYLOAD, detail="expected a WebSocket upgrade")
        await ws.prepare(request)
        peer = OneBotAppPeer(ws, request.remote or "unknown", query.format)
        peers = self._forward.setdefault(account.driver_id, set())
        peers.add(peer)
        try:
            await serve(hub, ws, ws, peer, account, query.options(), self.ids)
        finally:
            peers.discard(peer)
        return ws


class ForwardQuery(BaseModel):
    """The query string of /onebot/v11/app/ws."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    priority: int = Field(10, ge=-1_000_000, le=1_000_000)
    block: bool = False
    format: Literal["array", "string"] = "array"
    self_id: str | None = Field(None, pattern=r"^[0-9]{1,20}$")
    subscribe: OneBotAppFilters = OneBotAppFilters()

    @field_validator("subscribe", mode="before")
    @classmethod
    def _json(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                raise ValueError("must be a JSON object of filters") from None
        return value

    def options(self) -> AppOptions:
        """Return the bot's options."""
        return AppOptions(self.name.strip(), self.priority, self.block, self.subscribe, self.format)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"the bot refused the connection (HTTP {exc.status})"
    return str(exc) or type(exc).__name__


ONEBOT_APPS = web.AppKey("onebot_apps", OneBotApps)


async def _handle_forward(request: web.Request) -> web.StreamResponse:
    return await request.app[ONEBOT_APPS].handle_forward(request)


async def onebot_apps_context(app: web.Application) -> AsyncIterator[None]:
    """Start the service once the hub exists; stop it before the hub goes."""
    service = OneBotApps(app[HUB], OneBotAppRecords(app[ENGINE]))
    app[ONEBOT_APPS] = service
    await service.start()
    yield
    await service.stop()


async def _stopping(app: web.Application) -> None:
    service = app.get(ONEBOT_APPS)
    if service is not None:
        service.stopping()


def setup(app: web.Application) -> None:
    """Add the forward endpoint's routes, the service and its shutdown hook to `app`."""
    for path in FORWARD_PATHS:
        app.router.add_get(path, _handle_forward)
    app.cleanup_ctx.append(onebot_apps_context)
    # First of the shutdown hooks: nothing is dialed again while the connections are closed.
    app.on_shutdown.insert(0, _stopping)
