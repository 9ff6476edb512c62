"""Subscription matching (PROTOCOL.md 2.4 rule 1): every given filter must match, any item of it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from kenkogo_master.hub.messages import InboundMessage
from kenkogo_master.protocol.apps import Subscription
from kenkogo_master.protocol.drivers import MESSAGE_KIND

PRIVATE = "private"
DEFAULT_EVENTS = (MESSAGE_KIND,)


def kind_matches(kind: str, pattern: str) -> bool:
    """Tell whether a dotted kind matches a glob; "request.*" also names "request" itself."""
    return fnmatchcase(kind, pattern) or (pattern.endswith(".*") and kind == pattern[:-2])


@dataclass(frozen=True, slots=True)
class Matcher:
    """A subscription prepared for fast matching; None means the filter was not given."""

    chats: frozenset[str] | None = None
    platforms: frozenset[str] | None = None
    groups: frozenset[str] | None = None
    users: frozenset[str] | None = None
    commands: tuple[str, ...] | None = None
    keywords: tuple[str, ...] | None = None
    regexes: tuple[re.Pattern[str], ...] | None = None
    drivers: frozenset[str] | None = None
    events: tuple[str, ...] | None = None  # kind patterns; None: chat messages only
    # Whether chat messages are wanted, worked out once (they are nearly all the traffic).
    messages: bool = True
    # kind -> verdict, filled as kinds are seen (there are few of them)
    _kinds: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls, subscription: Subscription, regexes: tuple[re.Pattern[str], ...] = ()
    ) -> Matcher:
        """Prepare `subscription`, whose regexes were compiled (and checked) at register time."""

        def as_set(items: list[str] | None) -> frozenset[str] | None:
            return None if items is None else frozenset(items)

        def as_tuple(items: list[str] | None) -> tuple[str, ...] | None:
            return None if items is None else tuple(items)

        return cls(
            chats=as_set(subscription.chats),
            platforms=as_set(subscription.platforms),
            groups=as_set(subscription.groups),
            users=as_set(subscription.users),
            commands=as_tuple(subscription.commands),
            keywords=as_tuple(subscription.keywords),
            regexes=None if subscription.regex is None else regexes,
            drivers=as_set(subscription.drivers),
            events=as_tuple(subscription.events),
            messages=subscription.events is None
            or any(kind_matches(MESSAGE_KIND, pattern) for pattern in subscription.events),
        )

    def wants_kind(self, kind: str) -> bool:
        """Tell whether the `events` patterns take a kind (chat messages without them)."""
        known = self._kinds.get(kind)
        if known is None:
            patterns = self.events or DEFAULT_EVENTS
            known = any(kind_matches(kind, pattern) for pattern in patterns)
            if len(self._kinds) < 1000:  # kinds come from drivers: bound what they can grow
                self._kinds[kind] = known
        return known

    def takes_from(self, driver_id: str) -> bool:
        """Tell whether the `drivers` filter lets messages of `driver_id` through."""
        return self.drivers is None or driver_id in self.drivers

    def matches(self, message: InboundMessage) -> bool:
        """Tell whether `message` passes every filter.

        Text filters (commands, keywords, regex) look at chat messages only: a notice or
        request passes them, as its text is no command.
        """
        chat_message = message.kind == MESSAGE_KIND
        if not (self.messages if chat_message else self.wants_kind(message.kind)):
            return False
        chat = message.chat
        if self.chats is not None and chat["type"] not in self.chats:
            return False
        if self.platforms is not None and message.platform not in self.platforms:
            return False
        if self.drivers is not None and message.driver_id not in self.drivers:
            return False
        # `groups` names group chats: a private chat is never one of them.
        if self.groups is not None and (chat["type"] == PRIVATE or chat["id"] not in self.groups):
            return False
        if self.users is not None and message.sender["id"] not in self.users:
            return False
        if not chat_message:
            return True
        text = message.content
        # str.startswith takes a tuple: one call checks every command prefix.
        if self.commands is not None and not text.startswith(self.commands):
            return False
        if self.keywords is not None and not any(word in text for word in self.keywords):
            return False
        return self.regexes is None or any(regex.search(text) for regex in self.regexes)

    def checks(self, message: InboundMessage) -> list[dict[str, Any]]:
        """Explain `matches`: each given filter, what it wanted, what it saw, the verdict."""
        chat = message.chat
        text = message.content
        found: list[dict[str, Any]] = []

        def check(name: str, wanted: Any, seen: str, matched: bool) -> None:
            found.append({"filter": name, "wanted": list(wanted), "seen": seen, "matched": matched})

        chat_message = message.kind == MESSAGE_KIND
        if self.events is not None or not chat_message:
            wanted = self.events or DEFAULT_EVENTS
            check("events", wanted, message.kind, self.wants_kind(message.kind))
        if self.chats is not None:
            check("chats", sorted(self.chats), chat["type"], chat["type"] in self.chats)
        if self.platforms is not None:
            seen = message.platform
            check("platforms", sorted(self.platforms), seen, seen in self.platforms)
        if self.drivers is not None:
            seen = message.driver_id
            check("drivers", sorted(self.drivers), seen, seen in self.drivers)
        if self.groups is not None:
            in_group = chat["type"] != PRIVATE and chat["id"] in self.groups
            check("groups", sorted(self.groups), f"{chat['type']} {chat['id']}", in_group)
        if self.users is not None:
            seen = message.sender["id"]
            check("users", sorted(self.users), seen, seen in self.users)
        if not chat_message:
            return found  # text filters are for chat messages: a notice passes them
        if self.commands is not None:
            check("commands", self.commands, text[:200], text.startswith(self.commands))
        if self.keywords is not None:
            matched = any(word in text for word in self.keywords)
            check("keywords", self.keywords, text[:200], matched)
        if self.regexes is not None:
            patterns = [regex.pattern for regex in self.regexes]
            matched = any(regex.search(text) for regex in self.regexes)
            check("regex", patterns, text[:200], matched)
        return found
