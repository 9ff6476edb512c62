"""Answers of the settings operations: the handlers build these models, the document shows them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from kenkogo_master.api.openapi_shapes import Shape
from kenkogo_master.settings import Source

_VALUE = (
    "secrets read `********` (null when unset; a list of them one mask per entry); URLs keep "
    "their password and secret query values hidden"
)


class SettingItem(Shape):
    """One configuration key as it is in effect."""

    key: str = Field(description="`section.key`, as PATCH /api/v1/settings takes it")
    section: str
    name: str
    value: Any = Field(description=f"in effect now; {_VALUE}")
    source: Source = Field(description="where `value` comes from")
    configured: Any = Field(
        description="what file, environment or default give: where a reset goes"
    )
    configured_source: Literal["default", "file", "env"]
    default: Any
    runtime: bool = Field(description="may change while the Master runs; else a restart is needed")
    secret: bool
    retention: str | None = Field(
        description="the retention of /api/v1/db/retention this key sets (one store for both)"
    )
    updated_ms: int | None = Field(description="when it was changed at run time")


class SettingsInfo(Shape):
    """GET /api/v1/settings and DELETE /api/v1/settings/{key}."""

    config_file: str | None = Field(description="the configuration file read at start")
    items: list[SettingItem] = Field(description="every key, section by section")
    total: int = Field(ge=0)


class SettingChange(Shape):
    """One key a request changed (secrets masked as in `value`)."""

    key: str
    before: Any
    after: Any
    reset: bool = Field(description="went back to its configured value")


class SettingsChanged(SettingsInfo):
    """PATCH /api/v1/settings: what changed, then every key as it now is."""

    changed: list[SettingChange]
