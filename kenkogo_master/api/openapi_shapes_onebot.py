"""Answers of /api/v1/onebot-apps."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from kenkogo_master.api.answers import Shape
from kenkogo_master.transport.onebot_apps import Dial, Endpoint


class OneBotConnection(Shape):
    """The connection to a bot for one account."""

    driver_id: str
    self_id: int
    connected: bool
    instance_id: str | None = Field(description="the app instance while connected")
    last_error: str | None = Field(description="why the last attempt failed, if it did")

    @classmethod
    def of(cls, dial: Dial) -> OneBotConnection:
        """Describe a dial."""
        return cls(
            driver_id=dial.account.driver_id,
            self_id=dial.account.self_id,
            connected=dial.instance_id is not None,
            instance_id=dial.instance_id,
            last_error=dial.last_error,
        )


class OneBotApp(Shape):
    """A OneBot bot the Master dials; never its access token."""

    id: str = Field(description="`config-N` for the N-th [[onebot_apps]] of the configuration")
    source: Literal["config", "api"]
    name: str
    url: str
    access_token_set: bool
    priority: int
    block: bool
    subscribe: dict[str, Any]
    message_format: Literal["array", "string"]
    accounts: list[str]
    created_ms: int | None
    connections: list[OneBotConnection]

    @classmethod
    def of(cls, endpoint: Endpoint, dials: list[Dial]) -> OneBotApp:
        """Describe an endpoint and its connections."""
        entry = endpoint.entry
        return cls(
            id=endpoint.id,
            source=endpoint.source,
            name=entry.name,
            url=entry.url,
            access_token_set=entry.access_token is not None,
            priority=entry.priority,
            block=entry.block,
            subscribe=entry.subscribe.model_dump(exclude_none=True),
            message_format=entry.message_format,
            accounts=list(entry.accounts),
            created_ms=endpoint.created_ms,
            connections=[OneBotConnection.of(dial) for dial in dials],
        )


class OneBotAppList(Shape):
    """GET /api/v1/onebot-apps."""

    items: list[OneBotApp]
    count: int
