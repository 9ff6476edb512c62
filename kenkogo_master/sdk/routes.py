"""Handlers by what they match, and the subscription the Master is sent for them.

The Master matches a message when *every* filter an app gives matches (PROTOCOL.md 2.4), so an
app with both commands and keywords would only see messages that have both. Handlers are a union
instead: one kind alone is sent as it is, several kinds together as one `regex` list that any of
them satisfies. Notices and requests (`@app.notice`, `@app.request`, `@app.event`) route by
their dotted kind instead, and ask for it in `subscribe.events`; text filters never apply to
them, so they leave the text filters of message routes alone.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from kenkogo_master.sdk.models import AnyHandler, Event, Message

# The Master's limits on one filter (protocol/apps.py): items and characters per item.
MAX_ITEMS = 200
MAX_ITEM_LENGTH = 256
# Filters on who and where; the text filters come from the decorators.
PLACE_FILTERS = ("chats", "platforms", "groups", "users")
TEXT_FILTERS = ("commands", "keywords", "regex")


class Kind(StrEnum):
    """What a route matches in a message's text."""

    COMMAND = "commands"  # a prefix
    KEYWORD = "keywords"  # a substring
    REGEX = "regex"  # a regular expression search
    ANY = "any"  # every message
    EVENT = "events"  # notices and requests whose kind matches a glob


MESSAGE_KIND = "message"
_KIND_PATTERN = re.compile(r"[a-z0-9_.*?]{1,100}")


def kind_matches(kind: str, pattern: str) -> bool:
    """Tell whether a dotted kind matches a glob, as the Master does ("request.*" ⊇ "request")."""
    return fnmatchcase(kind, pattern) or (pattern.endswith(".*") and kind == pattern[:-2])


def _checked(kind: str, items: Iterable[str]) -> tuple[str, ...]:
    values = tuple(items)
    if not values and kind != Kind.ANY:
        raise ValueError(f"@{kind}: give at least one")
    for value in values:
        if not isinstance(value, str) or not value:
            raise ValueError(f"{kind}: {value!r} is not a non-empty string")
        if len(value) > MAX_ITEM_LENGTH:
            raise ValueError(f"{kind}: {value[:20]!r}… is longer than {MAX_ITEM_LENGTH}")
    return values


@dataclass(frozen=True, slots=True)
class Route:
    """One decorated handler and what it matches."""

    kind: Kind
    items: tuple[str, ...]
    handler: AnyHandler
    patterns: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def make(cls, kind: Kind, items: Iterable[str], handler: AnyHandler) -> Route:
        """Check the items (compiling regexes now, so a bad one fails at import) and build."""
        values = _checked(kind.value, items)
        if kind is Kind.EVENT:
            for value in values:
                if not _KIND_PATTERN.fullmatch(value):
                    raise ValueError(
                        f"event: {value[:40]!r} is not a kind pattern such as 'notice.*' "
                        "(lower-case letters, digits, '_', '.', '*', '?')"
                    )
        patterns: tuple[re.Pattern[str], ...] = ()
        if kind is Kind.REGEX:
            try:
                patterns = tuple(re.compile(value) for value in values)
            except re.error as exc:
                raise ValueError(f"regex: {exc}") from None
        return cls(kind, values, handler, patterns)

    def bind(self, message: Message) -> Message | None:
        """Return the message as this route's handler sees it, or None when it does not match."""
        if self.kind is Kind.EVENT:
            if not any(kind_matches(message.kind, item) for item in self.items):
                return None
            if isinstance(message, Event):
                return message
            fields = {f.name: getattr(message, f.name) for f in dataclasses.fields(message)}
            return Event(**fields)
        if message.kind != MESSAGE_KIND:
            return None  # text routes are for chat messages
        text = message.content
        if self.kind is Kind.ANY:
            return message
        if self.kind is Kind.COMMAND:
            # The longest command first, so that `/w` does not shadow `/weather`.
            for command in sorted(self.items, key=len, reverse=True):
                if text.startswith(command):
                    args = text[len(command) :].strip()
                    return dataclasses.replace(message, command=command, args=args)
            return None
        if self.kind is Kind.KEYWORD:
            return message if any(word in text for word in self.items) else None
        for pattern in self.patterns:
            found = pattern.search(text)
            if found is not None:
                return dataclasses.replace(message, match=found)
        return None


class Routes:
    """The routes of one event kind, in the order they were declared."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes)

    def __len__(self) -> int:
        return len(self._routes)

    def add(self, route: Route) -> None:
        """Append a route."""
        self._routes.append(route)

    def matching(self, message: Message) -> Iterator[tuple[Route, Message]]:
        """Yield each route that matches, with the message bound to it."""
        for route in self._routes:
            bound = route.bind(message)
            if bound is not None:
                yield route, bound

    def events(self) -> list[str] | None:
        """Return `subscribe.events`: None (messages only) unless a route names other kinds."""
        patterns: list[str] = []
        for route in self._routes:
            if route.kind is Kind.EVENT:
                patterns.extend(item for item in route.items if item not in patterns)
        if not patterns:
            return None
        if any(route.kind is not Kind.EVENT for route in self._routes):
            patterns.insert(0, MESSAGE_KIND)  # the message routes still want messages
        return _limited("events", patterns)

    def text_filters(self) -> dict[str, list[str]]:
        """Return the text filters that let exactly the messages some route wants through."""
        routes = [route for route in self._routes if route.kind is not Kind.EVENT]
        if not routes or any(route.kind is Kind.ANY for route in routes):
            return {}
        by_kind: dict[Kind, list[str]] = {}
        for route in routes:
            items = by_kind.setdefault(route.kind, [])
            items.extend(item for item in route.items if item not in items)
        if len(by_kind) == 1:
            [(kind, items)] = by_kind.items()
            return {kind.value: _limited(kind.value, items)}
        union: list[str] = []
        for kind, items in by_kind.items():
            for item in items:
                if kind is Kind.COMMAND:
                    union.append("^" + re.escape(item))
                elif kind is Kind.KEYWORD:
                    union.append(re.escape(item))
                else:
                    union.append(item)
        return {"regex": _limited("regex", union)}


def _limited(name: str, items: Sequence[str]) -> list[str]:
    if len(items) > MAX_ITEMS:
        raise ValueError(f"{name}: at most {MAX_ITEMS} items are accepted, not {len(items)}")
    for item in items:
        if len(item) > MAX_ITEM_LENGTH:
            raise ValueError(f"{name}: {item[:20]!r}… is longer than {MAX_ITEM_LENGTH}")
    return list(items)


@dataclass(frozen=True, slots=True)
class Subscription:
    """Where the app wants messages from; text filters come from the decorators.

    `extra` is sent as it is, for filters this SDK does not know yet.
    """

    chats: Sequence[str] | None = None
    platforms: Sequence[str] | None = None
    groups: Sequence[str] | None = None
    users: Sequence[str] | None = None
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in PLACE_FILTERS:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, str):
                raise ValueError(f"subscribe.{name}: a list of strings, not one string")
            _limited(name, _checked(name, value))
        for name in self.extra:
            if name in PLACE_FILTERS or name in TEXT_FILTERS:
                raise ValueError(f"subscribe.{name}: not an extra filter")

    @classmethod
    def of(cls, value: Subscription | Mapping[str, Any] | None) -> Subscription:
        """Accept a Subscription, a mapping of filters, or None (everywhere)."""
        if value is None:
            return cls()
        if isinstance(value, Subscription):
            return value
        if not isinstance(value, Mapping):
            raise TypeError("subscribe: a Subscription or a mapping of filters")
        text = sorted(set(value) & set(TEXT_FILTERS))
        if text:
            raise ValueError(
                f"subscribe: {', '.join(text)} come from @app.command/keyword/regex, not subscribe="
            )
        known = {name: value[name] for name in PLACE_FILTERS if name in value}
        extra = {name: item for name, item in value.items() if name not in PLACE_FILTERS}
        return cls(**known, extra=extra)

    def wire(self, routes: Routes) -> dict[str, Any]:
        """Return the `subscribe` object of `register`."""
        wire: dict[str, Any] = {}
        for name in PLACE_FILTERS:
            value = getattr(self, name)
            if value is not None:
                wire[name] = list(value)
        wire.update(routes.text_filters())
        events = routes.events()
        if events is not None:
            wire["events"] = events
        wire.update(self.extra)
        return wire
