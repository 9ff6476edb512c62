"""Answers of the REST API as pydantic models: the handlers return them, the document shows them.

Each handler declares its models with `answers.answers`; the schemathesis run in the test
suite checks every answer of the running server against the document as well.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from kenkogo_master.api.answers import Shape as Shape  # where the shape modules import it
from kenkogo_master.errors import ErrorCode
from kenkogo_master.hub.messages import MessageStatus
from kenkogo_master.hub.states import AppState
from kenkogo_master.store.tokens import Scope


class Error(Shape):
    """Every failure under /api and /health: a stable code and a translated message."""

    code: ErrorCode
    message: str


class StorageCheck(Shape):
    """Whether the database takes writes, and what it said when it did not."""

    ok: bool
    error: str | None = None


class HealthChecks(Shape):
    """What /health checked."""

    storage: StorageCheck


class Health(Shape):
    """GET /health: 200 while everything works, 503 (`unhealthy`) while writes fail."""

    status: Literal["ok", "unhealthy"]
    version: str
    uptime_s: float
    apps: int = Field(ge=0, description="live app instances")
    checks: HealthChecks


class Transition(Shape):
    """One change of an app instance's state."""

    from_state: str = Field(alias="from")
    to: str
    reason_key: str
    reason: str
    at_ms: int


class App(Shape):
    """An app instance: live ones carry their registration, past ones how they ended."""

    id: str
    name: str | None
    version: str | None
    state: AppState
    transport: str
    remote: str
    locale: str | None
    priority: int | None
    block: bool | None
    connected_ms: int
    registered_ms: int | None
    description: str | None = Field(None, description="live instances only")
    author: str | None = Field(None, description="live instances only")
    subscribe: dict[str, Any] | None = Field(None, description="live instances only")
    paused_by_operator: bool | None = Field(None, description="live instances only")
    held: bool | None = Field(None, description="live instances only")
    subscription: dict[str, Any] | None = Field(None, description="past instances only")
    disconnected_ms: int | None = Field(None, description="past instances only")
    disconnect_reason: str | None = Field(None, description="past instances only")


class AppDetail(App):
    """One app instance with every state change it went through."""

    transitions: list[Transition]


class AppList(Shape):
    """GET /api/v1/apps."""

    items: list[App]
    count: int


class Kicked(Shape):
    """POST /api/v1/apps/{id}/kick."""

    id: str
    state: Literal["disconnected"]


class AppName(Shape):
    """An app name ever seen."""

    name: str
    version: str
    description: str
    author: str
    first_seen_ms: int
    last_seen_ms: int
    held: bool
    instances: int = Field(ge=0, description="live instances under this name")
    away: bool = Field(
        description="no scheduling instance, but one left within `[apps] away_window`: "
        "messages for the name wait in its queue for the next instance"
    )
    away_since_ms: int | None = Field(description="when its last instance left, while away")
    queued: int = Field(ge=0, description="messages waiting in the name's queue")


class AppNameList(Shape):
    """GET /api/v1/app-names."""

    items: list[AppName]
    count: int


class Held(Shape):
    """POST /api/v1/app-names/{name}/hold."""

    name: str
    held: Literal[True]
    paused: list[str] = Field(description="ids of the instances the hold paused")


class Released(Shape):
    """POST /api/v1/app-names/{name}/release."""

    name: str
    held: Literal[False]
    resumed: list[str] = Field(description="ids of the instances the release resumed")


class Chat(Shape):
    """A chat as a message names it."""

    type: str
    id: str
    name: str | None = None


class Sender(Shape):
    """Who sent a message."""

    id: str
    name: str | None = None


class Message(Shape):
    """A message as drivers sent it and the hub stored it."""

    id: str
    driver: str
    platform: str
    platform_message_id: str
    chat: Chat
    sender: Sender
    content: str
    segments: list[dict[str, Any]]
    locale: str | None
    traceparent: str | None
    time: str = Field(description="RFC 3339")
    time_ms: int
    received_ms: int
    status: MessageStatus


class MessageList(Shape):
    """GET /api/v1/messages: newest first; pass `next_cursor` as `cursor` for the next page."""

    items: list[Message]
    count: int
    next_cursor: str | None


class Delivery(Shape):
    """One attempt to hand a message to an app."""

    id: str
    app: str
    instance_id: str | None
    attempt: int
    status: str
    created_ms: int
    sent_ms: int | None
    answered_ms: int | None
    latency_ms: float | None
    blocked: bool
    error: str | None


class ReplyError(Shape):
    """Why a reply was not sent."""

    code: str
    message: str


class Reply(Shape):
    """A reply an app sent for a message, and what became of it."""

    id: str
    message_id: str | None
    app: str | None
    instance_id: str | None
    driver: str | None
    chat: Chat
    content: str
    template: str | None
    status: str
    platform_message_id: str | None
    error: ReplyError | None
    created_ms: int
    done_ms: int | None


class MessageDetail(Message):
    """One message with every delivery attempt and every reply."""

    deliveries: list[Delivery]
    replies: list[Reply]


class DriverToken(Shape):
    """A stored driver token, never its secret."""

    id: str
    name: str
    created_ms: int
    last_used_ms: int | None


class DriverTokenList(Shape):
    """GET /api/v1/driver-tokens."""

    items: list[DriverToken]
    count: int


class NewDriverToken(DriverToken):
    """POST /api/v1/driver-tokens: the only answer that shows the secret."""

    token: str


class Deleted(Shape):
    """A deleted token."""

    id: str
    deleted: Literal[True]


class Driver(Shape):
    """A driver ever attached; live ones carry their connection."""

    id: str
    platform: str
    self_id: str
    name: str
    transport: str
    remote: str
    locale: str | None
    first_seen_ms: int
    last_seen_ms: int
    live: bool
    connected_ms: int | None = Field(None, description="live drivers only")


class DriverList(Shape):
    """GET /api/v1/drivers."""

    items: list[Driver]
    count: int


class ApiToken(Shape):
    """A stored API token, never its secret."""

    id: str
    name: str
    scope: Scope
    created_ms: int
    last_used_ms: int | None


class ApiTokenList(Shape):
    """GET /api/v1/tokens."""

    items: list[ApiToken]
    count: int


class NewApiToken(ApiToken):
    """POST /api/v1/tokens: the only answer that shows the secret."""

    token: str


class Text(Shape):
    """The text a locale uses for one key, and where it comes from."""

    locale: str
    key: str
    text: str
    source: str = Field(description="the locale whose catalog or override gave the text")
    catalog_text: str | None
    overridden: bool
    updated_ms: int | None


class TextPage(Shape):
    """GET /api/v1/i18n/texts: one page; `count` is the number of matches in all pages."""

    items: list[Text]
    count: int
    offset: int
    limit: int


class LocaleInfo(Shape):
    """A locale the Master offers."""

    locale: str
    name: str = Field(description="the locale's name in itself")
    display_name: str = Field(description="the locale's name in the caller's language")
    catalog: bool
    default: bool
    added_ms: int | None
    overrides: int


class LocaleList(Shape):
    """GET /api/v1/i18n/locales."""

    items: list[LocaleInfo]
    count: int


class LocaleRemoved(Shape):
    """DELETE /api/v1/i18n/locales/{locale}."""

    locale: str
    removed: Literal[True]


class ChatLocale(Shape):
    """The locale an operator set for a chat; null once forgotten."""

    platform: str
    chat_id: str
    locale: str | None


class ChatLocaleList(Shape):
    """GET /api/v1/i18n/chat-locales."""

    items: list[ChatLocale]
    count: int


class SimulatedReply(Shape):
    """A reply to a simulated message."""

    id: str
    content: str
    segments: list[dict[str, Any]]
    chat: dict[str, Any]
    platform_message_id: str
    at_ms: int
    app: str | None = None


class Simulation(Shape):
    """POST /api/v1/simulate: the stored message's id and the replies within wait_ms."""

    id: str
    replies: list[SimulatedReply]


class StreamEvent(Shape):
    """One Server-Sent Event: `event` is the topic, `data` a JSON object."""

    event: str
    data: str = Field(description='JSON: {"topic", "at_ms", "data"}')
    id: str | None = None
