"""The log filters GET /api/v1/logs and the event stream's `log` topic share."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from kenkogo_master.observability.log_context import FIELDS
from kenkogo_master.observability.log_records import LEVELS
from kenkogo_master.observability.log_search import LogFilter

Level = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class LogMatch(BaseModel):
    """Which records: by logger, text and context; the level is each query's own."""

    model_config = ConfigDict(extra="forbid")

    logger: Text | None = Field(
        None, description="a logger and its children, e.g. kenkogo_master.hub"
    )
    q: Text | None = Field(None, description="text in the message or the traceback, any case")
    app_id: Text | None = Field(None, description="records about this app instance")
    driver_id: Text | None = Field(None, description="records about this driver")
    message_id: Text | None = Field(None, description="records about this message")
    trace_id: Text | None = Field(None, description="records about this trace")
    remote: Text | None = Field(None, description="records about this peer address")

    @field_validator("level", mode="before", check_fields=False)
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def log_filter(
        self, level: Level | None, since_ms: int | None = None, until_ms: int | None = None
    ) -> LogFilter:
        """Return the filter the query asks for."""
        context = {name: value for name in FIELDS if (value := getattr(self, name))}
        return LogFilter(
            min_level=LEVELS[level] if level else 0,
            logger=self.logger,
            text=self.q,
            since_ms=since_ms,
            until_ms=until_ms,
            context=context,
        )
