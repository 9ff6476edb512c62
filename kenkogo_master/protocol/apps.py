"""Pydantic models of what apps send on /app and /ws (PROTOCOL.md section 2)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

Text = Annotated[str, StringConstraints(max_length=256)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Filter = Annotated[list[Text], Field(max_length=200)]


EventPatterns = Annotated[list[Text], Field(min_length=1, max_length=50)]
_EVENT_PATTERN = re.compile(r"[a-z0-9_.*?]{1,100}")


def event_patterns(patterns: list[str]) -> list[str]:
    """Refuse kind patterns that no kind could ever match (a typo would silently hear nothing)."""
    for pattern in patterns:
        if not _EVENT_PATTERN.fullmatch(pattern):
            raise ValueError(
                f"{pattern[:40]!r} is not a kind pattern: lower-case letters, digits, '_', '.', "
                "and the globs '*' and '?', e.g. 'notice.group_increase' or 'request.*'"
            )
    return patterns


DEFAULT_PRIORITY = 10  # where an app runs when it does not say


class WireModel(BaseModel):
    """A payload from outside: exact JSON types, unknown fields ignored (forward compatible)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class Subscription(WireModel):
    """Which messages an app wants; an absent filter matches everything."""

    chats: Filter | None = None
    platforms: Filter | None = None
    groups: Filter | None = None
    users: Filter | None = None
    commands: Filter | None = None
    keywords: Filter | None = None
    regex: Filter | None = None
    # Driver ids: only messages that came through one of them (e.g. one account's bot).
    drivers: Filter | None = None
    # Kinds wanted, as globs on the dotted kind ("notice.group_increase", "request.*");
    # absent means ["message"], chat messages only.
    events: Annotated[EventPatterns, AfterValidator(event_patterns)] | None = None


class BatchOptions(WireModel):
    """Opt-in to `messages` batches (PROTOCOL.md 2.5)."""

    max: int = Field(100, ge=1, le=1000)


class RegisterRequest(WireModel):
    """The `register` event of an app."""

    name: Name
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    author: Annotated[str, StringConstraints(max_length=200)] = ""
    locale: Annotated[str, StringConstraints(max_length=35)] | None = None
    subscribe: Subscription = Subscription()
    priority: int = Field(DEFAULT_PRIORITY, ge=-1_000_000, le=1_000_000)
    block: bool = False
    resume: Annotated[str, StringConstraints(max_length=64)] | None = None
    batch: BatchOptions | None = None


class ContentOrTemplate(WireModel):
    """Text given either as `content` or as a `template` with `params`."""

    content: Annotated[str, StringConstraints(max_length=65_536)] | None = None
    template: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    params: dict[str, Any] = {}

    @model_validator(mode="after")
    def _exactly_one(self) -> ContentOrTemplate:
        if (self.content is None) == (self.template is None):
            raise ValueError("give exactly one of 'content' or 'template'")
        return self


class ReplyRequest(ContentOrTemplate):
    """The `reply` event: answer a message in the chat it came from."""

    message_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    traceparent: Annotated[str, StringConstraints(max_length=128)] | None = None


class AnswerRequest(WireModel):
    """The `answer_request` event: approve or refuse a friend or group request."""

    request_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    approve: bool
    # Shown to the requester when refused (group requests); friends' requests have no reason.
    reason: Annotated[str, StringConstraints(max_length=200)] = ""
    # The new friend's remark (friend requests only).
    remark: Annotated[str, StringConstraints(max_length=200)] = ""


class ChatRef(WireModel):
    """A chat on a platform."""

    type: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    id: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class SendTarget(WireModel):
    """Where an app-initiated message goes."""

    driver: Annotated[str, StringConstraints(max_length=64)] | None = None
    platform: Annotated[str, StringConstraints(max_length=64)] | None = None
    chat: ChatRef


class SendRequest(ContentOrTemplate):
    """The `send` event: a message the app starts itself."""

    target: SendTarget


class MessageAnswer(WireModel):
    """An app's acknowledgement of one `message`."""

    block: bool = False
    reply: Annotated[str, StringConstraints(max_length=65_536)] | None = None
