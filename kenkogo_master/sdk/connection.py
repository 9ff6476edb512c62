"""One Socket.IO connection to the Master's `/app` namespace, from connect to close."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import socketio
from socketio import exceptions as sio_errors

from kenkogo_master.sdk.models import MasterError

log = logging.getLogger("kenkogo_master.sdk")

NAMESPACE = "/app"
CONNECT_TIMEOUT = 10.0  # seconds for the socket and the namespace to come up

EventHandler = Callable[[Any], Awaitable[Any]]


class Gone(Exception):
    """The connection closed (or never opened) before an answer came."""


class Refused(MasterError):
    """The Master refused the connection or the registration: trying again will not help."""


def _refusal(data: Any) -> MasterError:
    """Read the data of a refused connection: `{message, data: {code, message}}`."""
    if isinstance(data, Mapping) and isinstance(data.get("data"), Mapping):
        return MasterError.of(data["data"])
    if isinstance(data, Mapping):
        return MasterError("refused", str(data.get("message", "")))
    return MasterError("refused", str(data))


class Connection:
    """A socket to one URL; events from the Master go to `handlers`."""

    def __init__(
        self,
        url: str,
        token: str | None,
        handlers: Mapping[str, EventHandler],
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self.url = url
        self._token = token
        self._connect_timeout = connect_timeout
        self.client = socketio.AsyncClient(reconnection=False)
        self.closed = asyncio.Event()
        self._refusal: MasterError | None = None
        for event, handler in handlers.items():
            self.client.on(event, handler, namespace=NAMESPACE)
        self.client.on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        self.client.on("connect_error", self._on_connect_error, namespace=NAMESPACE)

    def _on_disconnect(self, *_: Any) -> None:
        self.closed.set()

    def _on_connect_error(self, data: Any = None) -> None:
        self._refusal = _refusal(data)

    async def open(self) -> None:
        """Connect; raise Refused when the Master turns the app away, OSError-like otherwise."""
        auth = {"token": self._token} if self._token is not None else None
        try:
            # The client waits for ever on a server that accepts the socket and says nothing.
            async with asyncio.timeout(self._connect_timeout):
                await self.client.connect(
                    self.url,
                    namespaces=[NAMESPACE],
                    transports=["websocket"],
                    auth=auth,
                    wait_timeout=self._connect_timeout,
                )
        except TimeoutError:
            await self.close()
            raise Gone(f"no answer within {self._connect_timeout} s") from None
        except sio_errors.ConnectionError as exc:
            await self.close()  # a failed attempt still holds an HTTP session to release
            if self._refusal is not None and self._refusal.code == "unauthorized":
                raise Refused(self._refusal.code, self._refusal.message) from None
            raise Gone(str(exc) or "connection failed") from None
        except asyncio.CancelledError:
            await self.close()  # a stop cut the attempt short: release its HTTP session too
            raise

    async def call(self, event: str, data: Any = None, timeout: float = 10.0) -> Any:
        """Emit an event and return its ack; raise Gone when the connection is not there."""
        if self.closed.is_set():
            raise Gone("not connected")
        try:
            return await self.client.call(event, data, namespace=NAMESPACE, timeout=timeout)
        except sio_errors.TimeoutError:
            raise Gone(f"no answer to {event} within {timeout} s") from None
        except (sio_errors.BadNamespaceError, sio_errors.DisconnectedError):
            raise Gone("not connected") from None

    async def flush(self, timeout: float = 1.0) -> None:
        """Wait until what was emitted (acks included) has been written to the socket."""
        if self.closed.is_set():
            return
        # Engine.IO's write loop marks each packet done once written; a close does not wait.
        with contextlib.suppress(TimeoutError, AttributeError):
            await asyncio.wait_for(self.client.eio.queue.join(), timeout)

    async def close(self) -> None:
        """Disconnect (a no-op when already closed)."""
        try:
            await self.client.disconnect()
        except Exception:  # the socket may already be half gone; closing must not fail
            log.debug("closing the connection to %s failed", self.url, exc_info=True)
        self.closed.set()
