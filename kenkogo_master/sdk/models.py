"""What an app handler sees and returns: typed messages, replies, blocks and send targets.

Plain dataclasses on purpose: the SDK must import without the server's dependencies (pydantic
included), so it cannot share the server's wire models.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kenkogo_master.sdk.app import App


class AppState(StrEnum):
    """Where the app stands with the Master (PROTOCOL.md 2.1, as the app sees it)."""

    DISCONNECTED = "disconnected"  # no connection (yet, or again: it reconnects by itself)
    CONNECTED = "connected"  # socket open, not registered yet
    PAUSED = "paused"  # registered, the Master sends nothing new
    SCHEDULING = "scheduling"  # registered, messages arrive


class MasterError(Exception):
    """The Master refused something; `code` is its wire code, `message` its text."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @classmethod
    def of(cls, error: Any) -> MasterError:
        """Read a `{code, message}` object, however malformed."""
        if isinstance(error, Mapping):
            return cls(str(error.get("code", "unknown")), str(error.get("message", "")))
        return cls("unknown", repr(error))


@dataclass(frozen=True, slots=True)
class Chat:
    """A chat on a platform: `type` is `group`, `private` or what the driver says."""

    type: str
    id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Sender:
    """Who wrote a message."""

    id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """One part of a message: text, an image, a mention…, as the driver sent it."""

    type: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer: plain `content`, or a `template` key rendered in the chat's locale."""

    content: str | None = None
    template: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.content is None) == (self.template is None):
            raise ValueError("give exactly one of content or template")
        if self.content is None and not self.template:
            raise ValueError("a template key may not be empty")

    def wire(self) -> dict[str, Any]:
        """Return the `content` or `template`/`params` part of a `reply` or `send` event."""
        if self.content is not None:
            return {"content": self.content}
        return {"template": self.template, "params": dict(self.params)}

    @classmethod
    def of(cls, value: str | Reply) -> Reply:
        """Turn a string into a content reply; keep a Reply as it is."""
        if isinstance(value, Reply):
            return value
        if isinstance(value, str):
            return cls(content=value)
        raise TypeError(f"a reply is a str or a Reply, not {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Block:
    """Stop lower priorities from getting the message, optionally replying as well."""

    reply: str | Reply | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """Where `App.send` goes: a chat, through a driver (by id) or the platform's driver."""

    chat: Chat
    driver: str | None = None
    platform: str | None = None

    def __post_init__(self) -> None:
        if self.driver is None and self.platform is None:
            raise ValueError("a target needs a driver or a platform")

    @classmethod
    def group(
        cls, group_id: str, *, platform: str | None = None, driver: str | None = None
    ) -> Target:
        """Address a group chat."""
        return cls(Chat("group", group_id), driver=driver, platform=platform)

    @classmethod
    def private(
        cls, user_id: str, *, platform: str | None = None, driver: str | None = None
    ) -> Target:
        """Address a private chat with one user."""
        return cls(Chat("private", user_id), driver=driver, platform=platform)

    def wire(self) -> dict[str, Any]:
        """Return the `target` of a `send` event."""
        target: dict[str, Any] = {"chat": {"type": self.chat.type, "id": self.chat.id}}
        if self.driver is not None:
            target["driver"] = self.driver
        if self.platform is not None:
            target["platform"] = self.platform
        return target


class BadMessage(ValueError):
    """A `message` payload without the fields every message has."""


def _text(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key, default)
    return value if isinstance(value, str) else default


def _optional(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def _segments(value: Any) -> tuple[Segment, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        Segment(str(item.get("type", "")), item.get("data") or {})
        for item in value
        if isinstance(item, Mapping)
    )


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message delivered to the app, with what the handler that got it matched."""

    id: str
    content: str
    segments: tuple[Segment, ...]
    chat: Chat
    sender: Sender
    platform: str
    driver: str
    time: dt.datetime | None
    locale: str | None
    attempt: int
    traceparent: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    # Set per handler: the command that matched and the text after it; the regex match.
    command: str | None = None
    args: str = ""
    match: re.Match[str] | None = None
    # "message", or a notice's / request's dotted kind ("notice.group_increase", "request.friend")
    kind: str = "message"
    detail: Mapping[str, Any] = field(default_factory=dict)  # a notice's platform fields
    _app: App | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_wire(cls, data: Any, app: App | None = None) -> Message:
        """Read a `message` payload; unknown fields are kept in `raw`, missing ones defaulted."""
        if not isinstance(data, Mapping):
            raise BadMessage(f"a message is an object, not {type(data).__name__}")
        message_id = data.get("id")
        if not isinstance(message_id, str) or not message_id:
            raise BadMessage("a message needs a string id")
        chat = _mapping(data.get("chat"))
        sender = _mapping(data.get("sender"))
        attempt = data.get("attempt", 1)
        kind = data.get("kind")
        detail = data.get("detail")
        return cls(
            id=message_id,
            content=_text(data, "content"),
            segments=_segments(data.get("segments")),
            chat=Chat(_text(chat, "type"), _text(chat, "id"), _optional(chat, "name")),
            sender=Sender(_text(sender, "id"), _optional(sender, "name")),
            platform=_text(data, "platform"),
            driver=_text(data, "driver"),
            time=_time(data.get("time")),
            locale=_optional(data, "locale"),
            attempt=attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else 1,
            traceparent=_optional(data, "traceparent"),
            raw=dict(data),
            kind=kind if isinstance(kind, str) and kind else "message",
            detail=dict(detail) if isinstance(detail, Mapping) else {},
            _app=app,
        )

    @property
    def target(self) -> Target:
        """Return the chat this message came from, as a `send` target."""
        return Target(
            Chat(self.chat.type, self.chat.id),
            driver=self.driver or None,
            platform=self.platform or None,
        )

    async def reply(
        self,
        content: str | Reply | None = None,
        *,
        template: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> str:
        """Answer in this message's chat; return the reply id once the Master has stored it."""
        if self._app is None:
            raise RuntimeError("this message was not delivered by an app")
        reply = as_reply(content, template, params)
        return await self._app.reply_to(self, reply)


@dataclass(frozen=True, slots=True)
class Event(Message):
    """A notice or request delivered to the app (`kind` says which; `detail` has its fields).

    It can be replied to like a message (a welcome in the group a member joined); a request
    can be answered with `approve()` / `refuse()`, or by returning Approve / Refuse.
    """

    @property
    def type(self) -> str:
        """Return the kind without its family: "group_increase", "friend", "notify.poke"."""
        return self.kind.partition(".")[2]

    @property
    def is_request(self) -> bool:
        """Tell whether this is a request, which expects an answer."""
        return self.kind.startswith("request.")

    @property
    def flag(self) -> str | None:
        """Return a request's flag (the platform's token for answering it)."""
        flag = self.detail.get("flag")
        return flag if isinstance(flag, str) else None

    @property
    def comment(self) -> str:
        """Return what the requester wrote (a request's text)."""
        return self.content

    async def approve(self, remark: str = "") -> str:
        """Accept this request; `remark` names a new friend. Return the answer's id."""
        return await self._answer(Approve(remark=remark))

    async def refuse(self, reason: str = "") -> str:
        """Turn this request down, telling why where the platform passes it on."""
        return await self._answer(Refuse(reason=reason))

    async def _answer(self, answer: Approve | Refuse) -> str:
        if self._app is None:
            raise RuntimeError("this event was not delivered by an app")
        if not self.is_request:
            raise ValueError(f"only requests are answered, not {self.kind}")
        return await self._app.answer_request(self, answer)


@dataclass(frozen=True, slots=True)
class Approve:
    """A request handler's result: accept the request (a friend's `remark` optional)."""

    remark: str = ""


@dataclass(frozen=True, slots=True)
class Refuse:
    """A request handler's result: turn it down, with a `reason` for group requests."""

    reason: str = ""


def as_reply(
    content: str | Reply | None, template: str | None, params: Mapping[str, Any] | None
) -> Reply:
    """Build a Reply from the keyword forms `reply(...)` and `send(...)` accept."""
    if isinstance(content, Reply):
        if template is not None or params is not None:
            raise ValueError("give a Reply or template/params, not both")
        return content
    if template is not None:
        if content is not None:
            raise ValueError("give exactly one of content or template")
        return Reply(template=template, params=dict(params or {}))
    if params is not None:
        raise ValueError("params go with a template")
    if content is None:
        raise ValueError("give content or a template")
    return Reply(content=content)


HandlerResult = str | Reply | Block | Approve | Refuse | None
Handler = Callable[[Message], Awaitable[HandlerResult] | HandlerResult]
EventHandler = Callable[[Event], Awaitable[HandlerResult] | HandlerResult]
AnyHandler = Callable[[Any], Awaitable[HandlerResult] | HandlerResult]
StateHook = Callable[[AppState, str], Awaitable[None] | None]
ErrorHook = Callable[[MasterError], Awaitable[None] | None]
