"""OneBot v11 toward apps: the events the Master sends as an implementation, the actions it takes.

The Master plays the implementation here (go-cqhttp, NapCat…) for bots written against OneBot:
its messages become message events, the bots' API calls come back as action frames, and every
call is answered with `{status, retcode, data, echo}`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from kenkogo_master.protocol.cq_code import (
    Segment,
    normalize_segments,
    parse,
    text_segment,
    to_cq_string,
)
from kenkogo_master.protocol.onebot import parse_id

# retcodes: 0 done, 1 accepted and carried out later (OneBot's "async"); the WebSocket API's
# 1400 bad parameters and 1404 unknown action; 100 a failure of the action itself (the driver
# refused or is away, the platform said no, no answer in time), as go-cqhttp and NapCat use it.
OK = 0
ASYNC = 1
FAILED = 100
BAD_PARAMS = 1400
UNSUPPORTED = 1404
# The largest message id handed out: OneBot's ids are int32, and some bots store them so.
MAX_MESSAGE_ID = 2**31 - 1


def stable_number(text: str) -> int:
    """Return a positive int32 that stands for `text`, the same in every process."""
    digest = hashlib.blake2b(text.encode(), digest_size=4).digest()
    return (int.from_bytes(digest, "big") & MAX_MESSAGE_ID) or 1


def numeric_id(value: str) -> int:
    """Return a chat or user id as OneBot's integer: the number itself, or one that stands for it.

    Platforms other than QQ have ids that are not numbers; a bot still gets a stable integer.
    """
    try:
        return parse_id(value)
    except ValueError:
        return stable_number(value)


def epoch_seconds(rfc3339: str) -> int:
    """Read a payload time as epoch seconds; now when it does not read."""
    try:
        return int(datetime.fromisoformat(rfc3339).timestamp())
    except (TypeError, ValueError):
        return int(time.time())


def message_event(
    payload: Mapping[str, Any], self_id: int, message_id: int, message_format: str
) -> dict[str, Any]:
    """Build the OneBot message event of a hub `message` payload (PROTOCOL.md 2.3)."""
    chat = payload["chat"]
    sender = payload["sender"]
    segments: list[dict[str, Any]] = payload.get("segments") or [
        dict(text_segment(payload.get("content", "")))
    ]
    raw = to_cq_string(segments)
    user_id = numeric_id(str(sender["id"]))
    name = sender.get("name") or str(sender["id"])
    event: dict[str, Any] = {
        "time": epoch_seconds(payload.get("time", "")),
        "self_id": self_id,
        "post_type": "message",
        "message_id": message_id,
        "user_id": user_id,
        "message": raw if message_format == "string" else segments,
        "raw_message": raw,
        "font": 0,
    }
    if chat["type"] == "group":
        event["message_type"] = "group"
        event["sub_type"] = "normal"
        event["group_id"] = numeric_id(str(chat["id"]))
        event["anonymous"] = None
        event["sender"] = {"user_id": user_id, "nickname": name, "card": "", "role": "member"}
    else:
        event["message_type"] = "private"
        event["sub_type"] = "friend"
        event["sender"] = {"user_id": user_id, "nickname": name}
    return event


def notice_event(payload: Mapping[str, Any], self_id: int) -> dict[str, Any]:
    """Rebuild the OneBot notice or request event of a hub payload of another kind.

    A OneBot driver's event comes back as it came (its fields are the payload's `detail`);
    another driver's gets the fields OneBot names from its kind, sender and chat where it
    left them out.
    """
    kind = str(payload["kind"])
    post_type, _, rest = kind.partition(".")
    detail = dict(payload.get("detail") or {})
    event: dict[str, Any] = {
        "time": epoch_seconds(payload.get("time", "")),
        "self_id": self_id,
        "post_type": post_type,
    }
    name, _, sub_type = rest.partition(".")
    event[f"{post_type}_type"] = name
    if sub_type:
        event["sub_type"] = sub_type
    event["user_id"] = numeric_id(str(payload["sender"]["id"]))
    chat = payload["chat"]
    if chat["type"] == "group":
        event["group_id"] = numeric_id(str(chat["id"]))
    if post_type == "request":
        event["comment"] = payload.get("content", "")
    for key in ("time", "self_id", "post_type"):  # the envelope is the Master's to say
        detail.pop(key, None)
    event.update(detail)  # the platform's own fields win: they are the event as it was
    return event


def lifecycle_event(self_id: int, sub_type: str = "connect") -> dict[str, Any]:
    """Build the lifecycle meta event an implementation sends first on a WebSocket."""
    return {
        "time": int(time.time()),
        "self_id": self_id,
        "post_type": "meta_event",
        "meta_event_type": "lifecycle",
        "sub_type": sub_type,
    }


def heartbeat_event(self_id: int, interval_ms: int, online: bool) -> dict[str, Any]:
    """Build a heartbeat meta event; `online` says whether the account's driver is there."""
    return {
        "time": int(time.time()),
        "self_id": self_id,
        "post_type": "meta_event",
        "meta_event_type": "heartbeat",
        "status": {"online": online, "good": online},
        "interval": interval_ms,
    }


def response(echo: Any, data: Any = None, retcode: int = OK, message: str = "") -> dict[str, Any]:
    """Build the answer to an action: ok, async, or failed with a message for people."""
    status = "ok" if retcode == OK else "async" if retcode == ASYNC else "failed"
    frame: dict[str, Any] = {"status": status, "retcode": retcode, "data": data}
    if retcode not in (OK, ASYNC):
        frame["msg"] = message
        frame["wording"] = message
    if echo is not None:
        frame["echo"] = echo
    return frame


class ActionModel(BaseModel):
    """Parameters from a bot: lax types (bots send ids as strings or numbers), extras ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def _id(value: object) -> int:
    return parse_id(value)


Id = Annotated[int, BeforeValidator(_id)]


def _message(value: object) -> str | list[Segment]:
    """Accept a message as a CQ-code string, a segment array, or one segment object."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        value = [value]
    return normalize_segments(value)


MessageParam = Annotated[str | list[Segment], BeforeValidator(_message)]


class RequestParams(ActionModel):
    """`set_friend_add_request` / `set_group_add_request`: the request's flag and the answer."""

    flag: Annotated[str, Field(min_length=1, max_length=100)]
    approve: bool = True
    reason: Annotated[str, Field(max_length=200)] = ""
    remark: Annotated[str, Field(max_length=200)] = ""


class ActionFrame(BaseModel):
    """One API call: `{action, params, echo}`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    action: Annotated[str, Field(min_length=1, max_length=128)]
    params: dict[str, Any] = {}
    echo: Any = None


class SendParams(ActionModel):
    """send_msg, send_group_msg and send_private_msg."""

    message_type: Literal["private", "group"] | None = None
    user_id: Id | None = None
    group_id: Id | None = None
    message: MessageParam
    auto_escape: bool = False

    def segments(self) -> list[Segment]:
        """Return the message as segments (`auto_escape`: a string is text, not CQ codes)."""
        if isinstance(self.message, str):
            return [text_segment(self.message)] if self.auto_escape else parse(self.message)
        return list(self.message)


class MessageIdParams(ActionModel):
    """delete_msg and get_msg."""

    message_id: Id
