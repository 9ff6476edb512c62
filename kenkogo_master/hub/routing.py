"""Subscription matching (PROTOCOL.md 2.4 rule 1): every given filter must match, any item of it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kenkogo_master.hub.messages import InboundMessage
from kenkogo_master.protocol.apps import Subscription

PRIVATE = "private"


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
        )

    def matches(self, message: InboundMessage) -> bool:
        """Tell whether `message` passes every filter."""
        chat = message.chat
        if self.chats is not None and chat["type"] not in self.chats:
            return False
        if self.platforms is not None and message.platform not in self.platforms:
            return False
        # `groups` names group chats: a private chat is never one of them.
        if self.groups is not None and (chat["type"] == PRIVATE or chat["id"] not in self.groups):
            return False
        if self.users is not None and message.sender["id"] not in self.users:
            return False
        text = message.content
        # str.startswith takes a tuple: one call checks every command prefix.
        if self.commands is not None and not text.startswith(self.commands):
            return False
        if self.keywords is not None and not any(word in text for word in self.keywords):
            return False
        return self.regexes is None or any(regex.search(text) for regex in self.regexes)
