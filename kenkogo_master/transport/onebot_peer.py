"""A OneBot v11 connection as a driver: API calls out, matched to their responses by echo."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import web

from kenkogo_master.errors import ErrorCode
from kenkogo_master.hub.drivers import ActionResult, OutboundAction
from kenkogo_master.ids import new_id
from kenkogo_master.protocol import codec
from kenkogo_master.protocol.onebot import ApiResponse, request_action, send_action

log = logging.getLogger(__name__)

# The implementation answered a send with a failure (status "failed" or an unexpected retcode).
ACTION_FAILED = "action_failed"


class PeerGone(Exception):
    """The connection closed before the implementation answered."""


def failed(code: str, message: str, **details: Any) -> ActionResult:
    """Build a failed ActionResult with a `{code, message}` error and optional details."""
    return ActionResult(success=False, error={"code": code, "message": message, **details})


def result_of(name: str, response: ApiResponse) -> ActionResult:
    """Turn an implementation's response to a send action into an ActionResult."""
    if response.ok:
        # "async" (retcode 1) means accepted without a message id; that is still a success.
        return ActionResult(success=True, platform_message_id=response.message_id)
    reason = response.wording or response.message or response.status
    return failed(
        ACTION_FAILED,
        f"{name} failed: {reason} (retcode {response.retcode})",
        status=response.status,
        retcode=response.retcode,
        wording=response.wording or response.message,
    )


class OneBotPeer:
    """A Universal-role OneBot v11 client: it pushes events and answers our API calls."""

    transport = "onebot"

    def __init__(
        self,
        ws: web.WebSocketResponse,
        remote: str,
        *,
        action_timeout: float,
        quote_replies: bool = False,
    ) -> None:
        self._ws = ws
        self.remote = remote
        self._timeout = action_timeout
        self._quote_replies = quote_replies
        self._pending: dict[str, asyncio.Future[ApiResponse]] = {}
        self._send_lock = asyncio.Lock()
        self._gone = False

    @property
    def gone(self) -> bool:
        """Whether the connection has ended."""
        return self._gone or self._ws.closed

    @property
    def pending(self) -> int:
        """Return how many API calls await a response."""
        return len(self._pending)

    async def deliver_action(self, action: OutboundAction) -> ActionResult:
        """Send a reply as send_group_msg / send_private_msg and wait for its response.

        An answer to a request goes out as set_friend_add_request / set_group_add_request.
        """
        echo = f"kk-{new_id()}"
        message: str | list[dict[str, Any]] = action.segments or action.content
        quote = (
            action.reply_to if self._quote_replies and action.chat.get("type") == "group" else None
        )
        try:
            if action.request is not None:
                answer = action.request
                frame = request_action(
                    str(answer["kind"]),
                    answer.get("detail") or {},
                    bool(answer["approve"]),
                    str(answer.get("reason") or ""),
                    str(answer.get("remark") or ""),
                    echo,
                )
            else:
                frame = send_action(
                    str(action.chat.get("type")), action.chat.get("id", ""), message, echo, quote
                )
        except ValueError as exc:
            return failed(ErrorCode.INVALID_PAYLOAD.value, f"cannot send to OneBot: {exc}")
        try:
            response = await self.call(frame)
        except PeerGone:
            return failed(ErrorCode.DRIVER_UNAVAILABLE.value, "the OneBot connection closed")
        except TimeoutError:
            return failed(
                ErrorCode.DRIVER_UNAVAILABLE.value,
                f"{frame['action']} got no response within {self._timeout:g} s",
            )
        return result_of(frame["action"], response)

    async def call(self, frame: dict[str, Any]) -> ApiResponse:
        """Send an API call frame and return its response; raise PeerGone or TimeoutError."""
        if self.gone:
            raise PeerGone
        echo = str(frame["echo"])
        future: asyncio.Future[ApiResponse] = asyncio.get_running_loop().create_future()
        self._pending[echo] = future
        try:
            async with self._send_lock:
                try:
                    await self._ws.send_str(codec.dumps(frame))
                except (ConnectionError, RuntimeError) as exc:
                    raise PeerGone from exc
            async with asyncio.timeout(self._timeout):
                return await future
        finally:
            self._pending.pop(echo, None)

    def resolve(self, response: ApiResponse) -> bool:
        """Hand a response to the call waiting for its echo; False when none is waiting."""
        echo = response.echo
        future = self._pending.pop(echo, None) if isinstance(echo, str) else None
        if future is None or future.done():
            return False
        future.set_result(response)
        return True

    def connection_lost(self) -> None:
        """Fail every call still waiting: their responses can no longer arrive."""
        self._gone = True
        for future in self._pending.values():
            if not future.done():
                future.set_exception(PeerGone())
        self._pending.clear()

    async def close(self) -> None:
        """Close the connection (a newer one for the same account replaced it, or shutdown)."""
        self.connection_lost()
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._ws.close()
