"""The API a OneBot app calls: sends become replies, a few calls are answered, reads forwarded.

One registry of action handlers, each taking the connection's `Link` and its raw params; every
call is answered — with data, `async`, or a failure carrying OneBot's retcode — and never left
unanswered (OneBot bots wait for the echo until their own time-out).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from kenkogo_master import __version__
from kenkogo_master.errors import HubError
from kenkogo_master.hub.drivers import ActionResult
from kenkogo_master.hub.hub import Hub
from kenkogo_master.hub.requests import answer_request
from kenkogo_master.hub.sessions import AppSession
from kenkogo_master.ids import new_id
from kenkogo_master.protocol import codec
from kenkogo_master.protocol.apps import AnswerRequest, ReplyRequest, SendRequest
from kenkogo_master.protocol.cq_code import Segment, plain_text
from kenkogo_master.protocol.onebot import action as call_frame
from kenkogo_master.protocol.onebot_apps import (
    ASYNC,
    BAD_PARAMS,
    FAILED,
    OK,
    UNSUPPORTED,
    ActionFrame,
    MessageIdParams,
    RequestParams,
    SendParams,
    response,
    stable_number,
)
from kenkogo_master.transport.app_events import describe_validation
from kenkogo_master.transport.onebot_peer import OneBotPeer, PeerGone

log = logging.getLogger(__name__)

# Message ids remembered both ways, across every OneBot app connection.
REMEMBERED_IDS = 100_000
# Reads a driver that speaks OneBot answers for the bot; everything else it could do (kick,
# ban, leave a group…) stays the operator's and is refused with 1404.
FORWARDED = frozenset(
    {
        "delete_msg",
        "get_msg",
        "get_group_list",
        "get_group_info",
        "get_group_member_info",
        "get_group_member_list",
        "get_stranger_info",
        "get_friend_list",
        "can_send_image",
        "can_send_record",
    }
)
# Params that name a message: mapped from the Master's numbers to the platform's ids.
MESSAGE_ID_ACTIONS = frozenset({"delete_msg", "get_msg"})


@dataclass(frozen=True, slots=True)
class Account:
    """The driver account a connection shows the bot as its own."""

    driver_id: str
    self_id: int
    name: str


@dataclass(slots=True)
class Ref:
    """What a message id handed to bots stands for."""

    kind: Literal["message", "reply"]
    id: str  # the Master's message or reply id
    platform_message_id: str | None = None  # a reply's, once its driver sent it


class MessageIds:
    """Stable int32 message ids for Master messages and replies, and back (bounded memory).

    A number is a hash of the Master id, so that every attempt, every connection and a restart
    show a message under the same number; a rare collision takes the next free number.
    """

    def __init__(self, limit: int = REMEMBERED_IDS) -> None:
        self._refs: OrderedDict[int, Ref] = OrderedDict()
        self._limit = limit

    def number(self, kind: Literal["message", "reply"], item_id: str) -> int:
        """Return the number of a message or reply, remembering it."""
        number = stable_number(item_id)
        while True:
            known = self._refs.get(number)
            if known is None or known.id == item_id:
                break
            number = number % (2**31 - 1) + 1
        if known is None:
            self._refs[number] = Ref(kind, item_id)
            if len(self._refs) > self._limit:
                self._refs.popitem(last=False)
        else:
            self._refs.move_to_end(number)
        return number

    def ref(self, number: int) -> Ref | None:
        """Return what a number stands for, if it is still remembered."""
        return self._refs.get(number)


class ActionError(Exception):
    """An action that failed, with OneBot's retcode and a message for people."""

    def __init__(self, retcode: int, message: str) -> None:
        super().__init__(message)
        self.retcode = retcode
        self.message = message


@dataclass(slots=True)
class Answer:
    """A handler's result: data, and `async` when the work goes on after the answer."""

    data: Any = None
    retcode: int = OK


@dataclass(eq=False)
class Link:
    """One OneBot app connection as its actions see it."""

    hub: Hub
    account: Account
    ids: MessageIds
    session: AppSession
    # the latest message handed to the bot per chat (type, id): its Master id and when
    recent: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)

    def delivered(self, payload: dict[str, Any]) -> int:
        """Note a message going to the bot; return its number."""
        chat = payload["chat"]
        self.recent[(chat["type"], str(chat["id"]))] = (payload["id"], time.monotonic())
        if len(self.recent) > 10_000:  # chats, not messages: a cap against a flood of chats
            del self.recent[next(iter(self.recent))]
        return self.ids.number("message", payload["id"])


Handler = Callable[[Link, dict[str, Any]], Awaitable[Answer]]
_HANDLERS: dict[str, Handler] = {}


def action(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler for the actions `names`."""

    def register(func: Handler) -> Handler:
        for name in names:
            _HANDLERS[name] = func
        return func

    return register


def unparsable(text: str) -> dict[str, Any] | None:
    """Answer a frame that is not an action: 1400 when it has an echo to answer, else nothing."""
    try:
        data = codec.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict) and "echo" in data:
        return response(data["echo"], retcode=BAD_PARAMS, message="not an action frame")
    return None


async def perform(link: Link, text: str) -> dict[str, Any] | None:
    """Carry out one action frame and return its answer (None: nothing to answer, logged)."""
    try:
        frame = ActionFrame.model_validate(codec.loads(text))
    except (ValueError, ValidationError) as exc:
        log.warning("OneBot app %s sent a bad frame: %s", link.session.id, str(exc)[:200])
        return unparsable(text)
    name = frame.action
    later = name.endswith("_async")
    if later:
        name = name.removesuffix("_async")
    name = name.removesuffix("_rate_limited")
    handler = _HANDLERS.get(name) or (_forward if name in FORWARDED else None)
    if handler is None:
        return response(frame.echo, retcode=UNSUPPORTED, message=f"unsupported action {name!r}")
    if later:
        task = asyncio.create_task(_run(handler, link, name, frame.params))
        _LATER.add(task)
        task.add_done_callback(_LATER.discard)
        return response(frame.echo, retcode=ASYNC)
    answer = await _run(handler, link, name, frame.params)
    if isinstance(answer, ActionError):
        return response(frame.echo, retcode=answer.retcode, message=answer.message)
    return response(frame.echo, answer.data, answer.retcode)


_LATER: set[asyncio.Task[Any]] = set()


async def _run(
    handler: Handler, link: Link, name: str, params: dict[str, Any]
) -> Answer | ActionError:
    try:
        return await handler(link, {**params, "__action__": name})
    except ActionError as exc:
        return exc
    except ValidationError as exc:
        return ActionError(BAD_PARAMS, describe_validation(exc))
    except HubError as exc:
        return ActionError(FAILED, link.hub.error(exc, link.session.locale)["message"])
    except Exception:
        log.exception("OneBot app %s: action %s failed", link.session.id, name)
        return ActionError(FAILED, "internal error")


# -- answered by the Master ---------------------------------------------------------------------


@action("get_login_info")
async def _login_info(link: Link, params: dict[str, Any]) -> Answer:
    account = link.account
    return Answer({"user_id": account.self_id, "nickname": account.name or str(account.self_id)})


@action("get_status")
async def _status(link: Link, params: dict[str, Any]) -> Answer:
    online = link.hub.drivers.get(link.account.driver_id) is not None
    return Answer({"online": online, "good": online})


@action("get_version_info")
async def _version(link: Link, params: dict[str, Any]) -> Answer:
    return Answer(
        {"app_name": "kenkogo-master", "app_version": __version__, "protocol_version": "v11"}
    )


# -- sends --------------------------------------------------------------------------------------


@action("send_msg", "send_group_msg", "send_private_msg")
async def _send(link: Link, params: dict[str, Any]) -> Answer:
    request = SendParams.model_validate(params)
    name = params["__action__"]
    chat_type = request.message_type or (
        "group" if name == "send_group_msg" or request.group_id is not None else "private"
    )
    if name == "send_private_msg":
        chat_type = "private"
    chat_id = request.group_id if chat_type == "group" else request.user_id
    if chat_id is None:
        key = "group_id" if chat_type == "group" else "user_id"
        raise ActionError(BAD_PARAMS, f"{name} to a {chat_type} chat needs {key}")
    segments = request.segments()
    if not any(s["type"] != "text" or s["data"].get("text") for s in segments):
        raise ActionError(BAD_PARAMS, "the message is empty")
    answers = await _answered_message(link, chat_type, str(chat_id), segments)
    content = plain_text(seg for seg in segments if seg["type"] != "reply")
    done: asyncio.Future[ActionResult] = asyncio.get_running_loop().create_future()

    def on_done(result: ActionResult) -> None:
        if not done.done():
            done.set_result(result)

    wire = [{"type": s["type"], "data": dict(s["data"])} for s in segments]
    replies = link.hub.replies
    if answers is not None:
        reply = ReplyRequest.model_validate({"message_id": answers, "content": content})
        accepted = await replies.reply(link.session, reply, wire, on_done)
    else:
        target = {"driver": link.account.driver_id, "chat": {"type": chat_type, "id": str(chat_id)}}
        send = SendRequest.model_validate({"target": target, "content": content})
        accepted = await replies.send(link.session, send, wire, on_done)
    number = link.ids.number("reply", accepted["id"])
    wait = link.hub.settings.onebot.app_send_wait
    try:
        async with asyncio.timeout(wait):
            result = await done
    except TimeoutError:
        return Answer({"message_id": number}, ASYNC)  # stored: the driver sends it when back
    if not result.success:
        error = result.error or {}
        retcode = error.get("retcode")
        code = retcode if isinstance(retcode, int) and retcode not in (OK, ASYNC) else FAILED
        raise ActionError(code, str(error.get("message") or error.get("code") or "send failed"))
    ref = link.ids.ref(number)
    if ref is not None:
        ref.platform_message_id = result.platform_message_id
    return Answer({"message_id": number})


async def _answered_message(
    link: Link, chat_type: str, chat_id: str, segments: list[Segment]
) -> str | None:
    """Return the Master message a send answers, rewriting a quote for the platform.

    A `reply` segment naming a message the bot was given links to it (its id becomes the
    platform's); without one, the latest message the bot got in that chat, if recent enough.
    """
    for segment in segments:
        if segment["type"] != "reply":
            continue
        ref = _ref_of(link, segment["data"].get("id"))
        if ref is None:
            return None  # not a number of ours: the platform's own id, passed on as it is
        if ref.kind == "reply":
            if ref.platform_message_id is not None:
                segment["data"]["id"] = ref.platform_message_id
            return None
        message = await link.hub.replies.message(ref.id)
        segment["data"]["id"] = message.platform_message_id
        same_chat = message.chat["type"] == chat_type and str(message.chat["id"]) == chat_id
        return ref.id if same_chat and message.driver_id == link.account.driver_id else None
    latest = link.recent.get((chat_type, chat_id))
    window = link.hub.settings.onebot.app_reply_window
    if latest is not None and time.monotonic() - latest[1] <= window:
        return latest[0]
    return None


def _ref_of(link: Link, value: object) -> Ref | None:
    try:
        number = int(str(value))
    except ValueError:
        return None
    return link.ids.ref(number)


# -- requests -----------------------------------------------------------------------------------

REQUEST_ACTIONS = {
    "set_friend_add_request": "request.friend",
    "set_group_add_request": "request.group",
}


@action(*REQUEST_ACTIONS)
async def _answer_request(link: Link, params: dict[str, Any]) -> Answer:
    """Answer a request the bot heard, through the account's driver, as a native app would."""
    request = RequestParams.model_validate(params)
    name = params["__action__"]
    hub = link.hub
    message = await hub.replies.message_of(link.account.driver_id, f"request:{request.flag}")
    if message is None:
        raise ActionError(BAD_PARAMS, f"{name}: no request with flag {request.flag!r}")
    if message.kind != REQUEST_ACTIONS[name]:
        raise ActionError(BAD_PARAMS, f"{name} cannot answer a {message.kind}")
    answer = AnswerRequest(
        request_id=message.id,
        approve=request.approve,
        reason=request.reason,
        remark=request.remark,
    )
    result = await answer_request(hub.replies, hub.drivers, link.session.name or "", answer)
    if not result["success"]:
        error = result.get("error") or {}
        retcode = error.get("retcode")
        code = retcode if isinstance(retcode, int) and retcode not in (OK, ASYNC) else FAILED
        raise ActionError(code, str(error.get("message") or error.get("code") or "refused"))
    return Answer(None)


# -- forwarded to a driver that speaks OneBot ---------------------------------------------------


async def _forward(link: Link, params: dict[str, Any]) -> Answer:
    name = params.pop("__action__")
    driver = link.hub.drivers.get(link.account.driver_id)
    if driver is None:
        raise ActionError(FAILED, "the account's driver is not connected")
    if not isinstance(driver.peer, OneBotPeer):
        raise ActionError(UNSUPPORTED, f"{name} is not supported by this account's driver")
    asked: int | None = None
    if name in MESSAGE_ID_ACTIONS:
        asked = MessageIdParams.model_validate(params).message_id
        params["message_id"] = await _platform_id(link, asked)
    try:
        answer = await driver.peer.call(call_frame(name, params, f"kk-{new_id()}"))
    except PeerGone:
        raise ActionError(FAILED, "the account's driver disconnected") from None
    except TimeoutError:
        raise ActionError(FAILED, f"{name}: the driver did not answer in time") from None
    data = answer.data
    if asked is not None and isinstance(data, dict) and "message_id" in data:
        data = {**data, "message_id": asked}  # the bot knows the message by our number
    if not answer.ok:
        message = answer.wording or answer.message or f"{name} failed"
        raise ActionError(answer.retcode if answer.retcode not in (OK, ASYNC) else FAILED, message)
    return Answer(data, answer.retcode)


async def _platform_id(link: Link, number: int) -> int | str:
    """Return the platform's id of a message the bot knows by our number (else the number)."""
    ref = link.ids.ref(number)
    if ref is None:
        return number
    if ref.kind == "reply":
        if ref.platform_message_id is None:
            raise ActionError(BAD_PARAMS, f"message {number} has not been sent yet")
        platform = ref.platform_message_id
    else:
        platform = (await link.hub.replies.message(ref.id)).platform_message_id
    try:
        return int(platform)
    except ValueError:
        return platform
