"""Answers of the routing explanation (GET /messages/{id}/routing, POST /routing/explain)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kenkogo_master.api.openapi_shapes import Shape


class FilterCheck(Shape):
    """One subscription filter: what it wanted, what the message had, and whether it matched."""

    filter: Literal[
        "events",
        "chats",
        "platforms",
        "groups",
        "users",
        "commands",
        "keywords",
        "regex",
        "drivers",
    ] = Field(
        description="`events` (the kind patterns) is shown for a notice or request, or when "
        "the app gave it; text filters are left out for notices and requests, which they skip"
    )
    wanted: list[str]
    seen: str = Field(description="the message's value (text cut at 200 characters)")
    matched: bool


class RoutingTarget(Shape):
    """An instance's subscription (or, for an away name, what a departed one subscribed to)."""

    instance_id: str | None = Field(description="null for what an away name left behind")
    priority: int
    block: bool
    matched: bool = Field(description="every filter matched")
    filters: list[FilterCheck]


class PickedInstance(Shape):
    """The instance the next hand-out would choose, and why."""

    id: str | None = Field(description="null when every instance is full")
    why: str
    loads: dict[str, int] = Field(description="unacknowledged messages per scheduling instance")


class RoutingName(Shape):
    """One app name: its state, whether it matches, its level, and what happens to the message."""

    name: str
    status: Literal["scheduling", "away", "paused", "held", "gone"]
    matched: bool
    priority: int | None
    block: bool = Field(description="a matching instance registered with block: true")
    queued: int = Field(ge=0)
    targets: list[RoutingTarget]
    level: int | None = Field(description="its priority level among the names that get it")
    outcome: Literal["receives", "waits", "blocked", "no_match", "not_scheduled"]
    why: str | None
    instance: PickedInstance | None


class DeliverySummary(Shape):
    """What really happened to a stored message at one app name."""

    app: str
    attempts: int
    status: str
    instance_id: str | None
    error: str | None
    blocked: bool


class RoutingExplanation(Shape):
    """Where a message goes now and why, name by name; for a stored one, where it went."""

    message_id: str | None
    status: str | None = Field(description="the stored message's status")
    unrouted: bool = Field(description="no name would get it now")
    levels: list[list[str]] = Field(description="the names that get it, by priority level")
    names: list[RoutingName]
    deliveries: list[DeliverySummary]
