"""Answers of the REST API as pydantic models: the handlers return them, the document shows them.

Each handler declares its models with `answers.answers`; the schemathesis run in the test
suite checks every answer of the running server against the document as well.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from babel import Locale
from pydantic import Field

from kenkogo_master.api.answers import Shape as Shape  # where the shape modules import it
from kenkogo_master.api.answers import absent
from kenkogo_master.errors import ErrorCode
from kenkogo_master.hub.messages import MessageStatus
from kenkogo_master.hub.sessions import AppSession
from kenkogo_master.hub.states import AppState
from kenkogo_master.i18n.texts import LocaleView, TextView
from kenkogo_master.protocol.drivers import format_time
from kenkogo_master.store.driver_tokens import DriverTokenInfo
from kenkogo_master.store.tokens import Scope


class Error(Shape):
    """Every failure under /api and /health: a stable code and a translated message."""

    code: ErrorCode
    message: str


class StorageCheck(Shape):
    """Whether the database takes writes, and what it said when it did not."""

    ok: bool
    error: str | None = Field(None, exclude_if=absent, description="left out while ok")


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


class AppInstance(Shape):
    """What every app instance shows, live or gone."""

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


class App(AppInstance):
    """A live app instance with its registration (null fields until it registers)."""

    description: str | None
    author: str | None
    subscribe: dict[str, Any] | None
    paused_by_operator: bool
    held: bool = Field(description="its name is held")
    in_flight: int = Field(0, ge=0, description="messages sent to it and not yet acked")

    @classmethod
    def of(cls, session: AppSession, held: bool, **more: Any) -> Self:
        """Describe a live session (`more`: what a subclass adds)."""
        registration = session.registration
        return cls(
            id=session.id,
            name=session.name,
            version=registration.version if registration else None,
            description=registration.description if registration else None,
            author=registration.author if registration else None,
            state=session.state,
            transport=session.peer.transport,
            remote=session.peer.remote,
            locale=session.locale,
            priority=registration.priority if registration else None,
            block=registration.block if registration else None,
            subscribe=registration.subscribe.model_dump(exclude_none=True)
            if registration
            else None,
            paused_by_operator=session.paused_by_operator,
            connected_ms=session.connected_ms,
            registered_ms=session.registered_ms,
            held=held,
            **more,
        )


class PastApp(AppInstance):
    """An app instance no longer connected to this process, as it was recorded."""

    subscription: dict[str, Any] | None
    disconnected_ms: int | None
    disconnect_reason: str | None


class AppDetail(App):
    """A live app instance with every state change it went through."""

    transitions: list[Transition]


class PastAppDetail(PastApp):
    """An app instance that is gone, with every state change it went through."""

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
    name: str | None = Field(None, exclude_if=absent, description="left out when unknown")


class Sender(Shape):
    """Who sent a message."""

    id: str
    name: str | None = Field(None, exclude_if=absent, description="left out when unknown")


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
    kind: str = Field(
        "message",
        description="\"message\" for a chat message, else a notice's or request's dotted kind, "
        'e.g. "notice.group_increase" or "request.friend"',
    )
    detail: dict[str, Any] | None = Field(
        None, description="a notice's or request's platform fields; null for a chat message"
    )

    @classmethod
    def of(cls, row: dict[str, Any], **more: Any) -> Self:
        """Describe a `messages` row in the shape apps know from the `message` event."""
        return cls(
            id=row["id"],
            driver=row["driver_id"],
            platform=row["platform"],
            platform_message_id=row["platform_message_id"],
            chat=Chat(type=row["chat_type"], id=row["chat_id"], name=row["chat_name"]),
            sender=Sender(id=row["sender_id"], name=row["sender_name"]),
            content=row["content"],
            segments=row["segments"],
            locale=row["locale"],
            traceparent=row["traceparent"],
            time=format_time(row["time_ms"]),
            time_ms=row["time_ms"],
            received_ms=row["received_ms"],
            status=row["status"],
            kind=row.get("kind") or "message",
            detail=row.get("detail"),
            **more,
        )


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

    @classmethod
    def of(cls, row: dict[str, Any]) -> Delivery:
        """Describe a `deliveries` row."""
        return cls(
            id=row["id"],
            app=row["app_name"],
            instance_id=row["instance_id"],
            attempt=row["attempt"],
            status=row["status"],
            created_ms=row["created_ms"],
            sent_ms=row["sent_ms"],
            answered_ms=row["answered_ms"],
            latency_ms=row["latency_ms"],
            blocked=row["blocked"],
            error=row["error"],
        )


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

    @classmethod
    def of(cls, row: dict[str, Any]) -> Reply:
        """Describe a `replies` row."""
        error = None
        if row["error_code"] is not None:
            error = ReplyError(code=row["error_code"], message=row["error_message"] or "")
        return cls(
            id=row["id"],
            message_id=row["message_id"],
            app=row["app_name"],
            instance_id=row["instance_id"],
            driver=row["driver_id"],
            chat=Chat(type=row["chat_type"], id=row["chat_id"]),
            content=row["content"],
            template=row["template"],
            status=row["status"],
            platform_message_id=row["platform_message_id"],
            error=error,
            created_ms=row["created_ms"],
            done_ms=row["done_ms"],
        )


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

    @classmethod
    def of(cls, info: DriverTokenInfo, **more: Any) -> Self:
        """Describe a stored driver token (`more`: what a subclass adds)."""
        return cls(
            id=info.id,
            name=info.name,
            created_ms=info.created_ms,
            last_used_ms=info.last_used_ms,
            **more,
        )


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
    connected_ms: int | None = Field(None, description="live drivers only", exclude_if=absent)
    alive_ms: int | None = Field(
        None,
        description="its last sign of life (attach, event, heartbeat); live drivers only",
        exclude_if=absent,
    )
    received: int = Field(ge=0, description="messages stored from it since the Master started")
    sent: int = Field(ge=0, description="replies and sends it carried out since the start")
    failed: int = Field(ge=0, description="replies and sends that failed on it since the start")


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
    text: str | None = Field(
        description="null for a plural form no locale it falls back to has (a locale with "
        "more forms than its fallback), until it is overridden"
    )
    source: str | None = Field(
        description="the locale whose catalog or override gave the text; null without one"
    )
    catalog_text: str | None
    overridden: bool
    updated_ms: int | None

    @classmethod
    def of(cls, view: TextView) -> Text:
        """Describe one text of one locale."""
        return cls(
            locale=view.locale,
            key=view.key,
            text=view.text,
            source=view.source,
            catalog_text=view.catalog_text,
            overridden=view.overridden,
            updated_ms=view.updated_ms,
        )


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

    @classmethod
    def of(cls, view: LocaleView, viewer: str | None) -> LocaleInfo:
        """Describe a locale, named in itself and in the viewer's locale."""
        own = Locale.parse(view.locale)
        return cls(
            locale=view.locale,
            name=own.get_display_name(own) or view.locale,
            display_name=own.get_display_name(viewer or view.locale) or view.locale,
            catalog=view.catalog,
            default=view.default,
            added_ms=view.added_ms,
            overrides=view.overrides,
        )


class PanelLocale(Shape):
    """A locale the panel can be shown in."""

    locale: str
    name: str = Field(description="the locale's name in itself")


class PanelTexts(Shape):
    """GET /api/v1/i18n/panel (and /login): the panel's texts in one locale."""

    locale: str = Field(description="the offered locale chosen: the one asked for, else the best")
    default_locale: str
    locales: list[PanelLocale]
    texts: dict[str, str] = Field(description="key → text, operators' overrides applied")


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
    app: str | None = Field(None, exclude_if=absent, description="left out until known")
    request: dict[str, Any] | None = Field(
        None,
        exclude_if=absent,
        description="an app's answer to a simulated request: {kind, flag, approve, reason, "
        "remark}; left out for a message",
    )


class Simulation(Shape):
    """POST /api/v1/simulate: the stored message's id and the replies within wait_ms."""

    id: str
    platform_message_id: str = Field(
        description="the simulated message's id on its platform: `reply_to` of the "
        "`simulator.reply` events that answer it"
    )
    replies: list[SimulatedReply]


class StreamEvent(Shape):
    """One Server-Sent Event: `event` is the topic, `data` a JSON object."""

    event: str
    data: str = Field(description='JSON: {"topic", "at_ms", "data"}')
    id: str | None = None
