"""OneBot v11 frames: events and API responses in, `send_*_msg` actions out (PROTOCOL.md 5)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from kenkogo_master.protocol.cq_code import (
    Segment,
    json_type,
    normalize_segments,
    parse,
    plain_text,
    text_segment,
)

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# The largest epoch second a datetime can hold (9999-12-31T23:59:59Z).
_MAX_EPOCH = 253_402_300_799
_NUMERIC_RE = re.compile(r"-?[0-9]+")


def parse_id(value: object) -> int:
    """Read a OneBot id: an int64 number or a string of digits; raise ValueError otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and len(value) <= 20 and _NUMERIC_RE.fullmatch(value):
        number = int(value)
    else:
        raise ValueError(f"an id must be an integer or a numeric string, not {json_type(value)}")
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueError("an id must fit in a signed 64-bit integer")
    return number


def _message_id(value: object) -> int | str:
    """Accept a message id as a number or a non-empty string; it is opaque to the Master."""
    # The standard says int32, but several implementations send strings; both are only echoed back.
    if isinstance(value, str) and 0 < len(value) <= 128:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(
        f"a message id must be an integer or a non-empty string, not {json_type(value)}"
    )


def _epoch(value: object) -> int | float:
    """Accept event times as epoch seconds a datetime can represent."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= _MAX_EPOCH:
        return value
    raise ValueError(f"a time must be epoch seconds between 0 and {_MAX_EPOCH}")


def _null_as_empty(value: object) -> object:
    """Read a JSON null as an empty object, as some implementations send one for "unknown"."""
    return {} if value is None else value


def _message(value: object) -> list[Segment]:
    """Turn a string (CQ codes) or array message into segments."""
    if isinstance(value, str):
        return parse(value)
    return normalize_segments(value)


Int64 = Annotated[int, BeforeValidator(parse_id)]
MessageId = Annotated[int | str, BeforeValidator(_message_id)]
Epoch = Annotated[int | float, BeforeValidator(_epoch)]
Message = Annotated[list[Segment], BeforeValidator(_message)]
Status = Annotated[dict[str, Any], BeforeValidator(_null_as_empty)]


class OneBotModel(BaseModel):
    """A frame from an implementation: JSON types exactly, extra fields kept (they add many)."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class Sender(OneBotModel):
    """Who sent a message, as far as the implementation knows; every field may be missing."""

    user_id: Int64 | None = None
    nickname: str | None = None
    card: str | None = None  # group card (the name shown in that group)
    role: str | None = None  # "owner" | "admin" | "member"


class Anonymous(OneBotModel):
    """The anonymous identity of a group message with sub_type "anonymous"."""

    id: Int64 | None = None
    name: str | None = None
    flag: str | None = None


class MessageEvent(OneBotModel):
    """A private or group chat message (post_type "message")."""

    time: Epoch
    self_id: Int64
    post_type: Literal["message"]
    message_type: Literal["private", "group"]
    sub_type: str = ""
    message_id: MessageId
    user_id: Int64
    group_id: Int64 | None = None
    anonymous: Anonymous | None = None
    message: Message
    raw_message: str = ""
    font: int = 0
    sender: Annotated[Sender, BeforeValidator(_null_as_empty)] = Sender()

    @model_validator(mode="after")
    def _group_has_id(self) -> MessageEvent:
        if self.message_type == "group" and self.group_id is None:
            raise ValueError("a group message needs 'group_id'")
        return self


class MetaEvent(OneBotModel):
    """An event about the implementation itself (post_type "meta_event")."""

    time: Epoch
    self_id: Int64
    post_type: Literal["meta_event"]
    meta_event_type: str


class HeartbeatEvent(MetaEvent):
    """A periodic sign of life; `interval` is the milliseconds until the next one."""

    meta_event_type: Literal["heartbeat"]
    status: Status = {}
    interval: int = Field(ge=0)

    @property
    def online(self) -> bool | None:
        """Whether the account is online, None when the implementation cannot tell."""
        value = self.status.get("online")
        return value if isinstance(value, bool) else None

    @property
    def good(self) -> bool:
        """Whether the implementation reports itself working as expected."""
        return self.status.get("good") is True


class LifecycleEvent(MetaEvent):
    """The implementation was enabled, disabled, or (on WebSockets) connected."""

    meta_event_type: Literal["lifecycle"]
    sub_type: str  # "enable" | "disable" | "connect"


class NoticeEvent(OneBotModel):
    """Something that happened in a chat or to the account (post_type "notice")."""

    time: Epoch
    self_id: Int64
    post_type: Literal["notice"]
    notice_type: Annotated[str, Field(min_length=1, max_length=48)]
    sub_type: str | None = None
    user_id: Int64 | None = None
    group_id: Int64 | None = None
    operator_id: Int64 | None = None


class RequestEvent(OneBotModel):
    """A friend request or a group join request / invitation (post_type "request")."""

    time: Epoch
    self_id: Int64
    post_type: Literal["request"]
    request_type: Annotated[str, Field(min_length=1, max_length=48)]
    sub_type: str | None = None  # a group request's "add" | "invite"
    user_id: Int64
    group_id: Int64 | None = None
    comment: str = ""
    flag: Annotated[str, Field(min_length=1, max_length=100)]


class OtherEvent(OneBotModel):
    """An event the Master does not act on (notice, request, unknown kinds), kept whole."""

    post_type: str
    self_id: Int64 | None = None
    time: Epoch | None = None


class ApiResponse(OneBotModel):
    """The answer to an action, matched to its request by `echo`."""

    status: str  # "ok" | "async" | "failed"
    retcode: int
    data: Any = None
    echo: Any = None
    message: str | None = None  # an error text from some implementations
    wording: str | None = None  # the same, meant for people

    @property
    def ok(self) -> bool:
        """Whether the action was carried out (or accepted for asynchronous handling)."""
        return (self.status, self.retcode) in (("ok", 0), ("async", 1))

    @property
    def message_id(self) -> str | None:
        """The id of the message a send action created, when the response carries one."""
        if not isinstance(self.data, Mapping):
            return None
        value = self.data.get("message_id")
        if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
            return None
        return str(value)


Frame = MessageEvent | MetaEvent | NoticeEvent | RequestEvent | ApiResponse | OtherEvent


def classify(frame: object) -> Frame:
    """Validate a decoded frame and return its model; raise ValueError for what is not a frame."""
    if not isinstance(frame, dict):
        raise ValueError(f"a OneBot frame must be a JSON object, not {json_type(frame)}")
    post_type = frame.get("post_type")
    if post_type is None:
        if "echo" in frame:
            return ApiResponse.model_validate(frame)
        raise ValueError("a OneBot frame needs 'post_type' (an event) or 'echo' (a response)")
    if not isinstance(post_type, str):
        raise ValueError(f"'post_type' must be a string, not {json_type(post_type)}")
    if post_type == "message":
        kind = frame.get("message_type")
        if kind in ("private", "group") or not isinstance(kind, str):
            return MessageEvent.model_validate(frame)  # a missing type is an error, not "other"
        return OtherEvent.model_validate(frame)  # e.g. go-cqhttp's "guild"
    if post_type == "meta_event":
        kind = frame.get("meta_event_type")
        if kind == "heartbeat":
            return HeartbeatEvent.model_validate(frame)
        if kind == "lifecycle":
            return LifecycleEvent.model_validate(frame)
        return MetaEvent.model_validate(frame)
    if post_type == "notice":
        return NoticeEvent.model_validate(frame)
    if post_type == "request":
        return RequestEvent.model_validate(frame)
    # Guild messages and the implementations' own kinds ("message_sent").
    return OtherEvent.model_validate(frame)


def rfc3339(epoch: float) -> str:
    """Format epoch seconds as an RFC 3339 UTC time."""
    moment = datetime.fromtimestamp(epoch, UTC)
    if moment.microsecond:
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def display_name(event: MessageEvent) -> str:
    """Name the sender as people in the chat see them, falling back to the id."""
    if event.anonymous is not None and event.anonymous.name:
        return event.anonymous.name
    return event.sender.card or event.sender.nickname or str(event.user_id)


def to_inbound(event: MessageEvent) -> dict[str, Any]:
    """Build the driver `event` payload (PROTOCOL.md 4) for a message event."""
    sender_name = display_name(event)
    chat: dict[str, str]
    if event.message_type == "group":
        chat = {"type": "group", "id": str(event.group_id)}
        group_name = (event.model_extra or {}).get("group_name")  # sent by some implementations
        if isinstance(group_name, str) and group_name:
            chat["name"] = group_name
    else:
        # A private chat is the conversation with the sender, so it carries their name.
        chat = {"type": "private", "id": str(event.user_id), "name": sender_name}
    segments = [{"type": s["type"], "data": dict(s["data"])} for s in event.message]
    return {
        "platform_message_id": str(event.message_id),
        "chat": chat,
        "sender": {"id": str(event.user_id), "name": sender_name},
        "content": plain_text(segments),
        "segments": segments,
        "time": rfc3339(event.time),
    }


# Fields of every event that the Master's own record of it keeps elsewhere.
_ENVELOPE = frozenset({"time", "self_id", "post_type"})


def event_kind(event: NoticeEvent | RequestEvent) -> str:
    """Name a notice or request the way subscriptions do: "notice.group_increase" and so on."""
    if isinstance(event, RequestEvent):
        return f"request.{event.request_type}"
    # "notify" is a family (poke, lucky_king, honor): its member is part of the kind.
    if event.notice_type == "notify" and event.sub_type:
        return f"notice.notify.{event.sub_type}"
    return f"notice.{event.notice_type}"


def to_notice(event: NoticeEvent | RequestEvent) -> dict[str, Any]:
    """Build the driver `event` payload of a notice or request (a NoticeForm)."""
    detail = {
        key: value
        for key, value in event.model_dump(exclude_none=True).items()
        if key not in _ENVELOPE
    }
    # Who the event is about: the user, else who acted, else (a group-wide notice) the group.
    about = event.user_id
    if about is None and isinstance(event, NoticeEvent):
        about = event.operator_id if event.operator_id is not None else event.group_id
    user = str(about if about is not None else event.self_id)
    payload: dict[str, Any] = {
        "kind": event_kind(event),
        "sender": {"id": user},
        "detail": detail,
        "time": rfc3339(event.time),
    }
    if event.group_id is not None:
        payload["chat"] = {"type": "group", "id": str(event.group_id)}
    if isinstance(event, RequestEvent):
        payload["content"] = event.comment
    return payload


def request_action(
    kind: str, detail: Mapping[str, Any], approve: bool, reason: str, remark: str, echo: str
) -> dict[str, Any]:
    """Build the `set_friend_add_request` / `set_group_add_request` call answering a request."""
    flag = detail.get("flag")
    if kind == "request.friend":
        params: dict[str, Any] = {"flag": flag, "approve": approve}
        if remark:
            params["remark"] = remark
        return action("set_friend_add_request", params, echo)
    if kind == "request.group":
        sub_type = detail.get("sub_type") or "add"
        params = {"flag": flag, "sub_type": sub_type, "type": sub_type, "approve": approve}
        if reason and not approve:
            params["reason"] = reason
        return action("set_group_add_request", params, echo)
    raise ValueError(f"OneBot has no answer to a {kind!r}")


def action(name: str, params: Mapping[str, Any], echo: str) -> dict[str, Any]:
    """Build an API call frame."""
    return {"action": name, "params": dict(params), "echo": echo}


def send_action(
    chat_type: str,
    chat_id: int | str,
    message: str | Iterable[Mapping[str, Any]],
    echo: str,
    reply_to: int | str | None = None,
) -> dict[str, Any]:
    """Build a `send_group_msg` / `send_private_msg` call; text is sent as is, not as CQ codes."""
    if chat_type == "group":
        name, key = "send_group_msg", "group_id"
    elif chat_type == "private":
        name, key = "send_private_msg", "user_id"
    else:
        raise ValueError(f"chat type must be 'group' or 'private', not {chat_type!r}")
    target = parse_id(chat_id)
    segments = [text_segment(message)] if isinstance(message, str) else normalize_segments(message)
    if not any(s["type"] != "text" or s["data"]["text"] for s in segments):
        raise ValueError("a message needs some content")
    # A message that quotes already (an app's own `reply` segment) is not quoted twice.
    if reply_to is not None and not any(s["type"] == "reply" for s in segments):
        segments.insert(0, {"type": "reply", "data": {"id": str(_message_id(reply_to))}})
    return action(name, {key: target, "message": segments}, echo)
