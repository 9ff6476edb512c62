"""Answers of the log resources: the handlers build these models, the document shows them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kenkogo_master.api.openapi_shapes import Shape


class LogItem(Shape):
    """One log record, its secrets masked."""

    seq: int | None = Field(description="its number in the run that logged it")
    time_ms: int
    time: str = Field(description="RFC 3339, UTC, with milliseconds")
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
    logger: str
    message: str
    exception: str | None = Field(description="the traceback, if the record carried one")
    app_id: str | None = Field(description="the app instance it is about")
    driver_id: str | None = Field(description="the driver it is about")
    message_id: str | None = Field(description="the message it is about")
    trace_id: str | None = Field(description="the trace of that message")
    remote: str | None = Field(description="the peer's address")
    source: Literal["memory", "file"] = Field(description="read from the ring or from a file")


class LogPage(Shape):
    """GET /api/v1/logs: newest first; pass `next_cursor` as `cursor` for the next page."""

    items: list[LogItem]
    count: int = Field(ge=0)
    next_cursor: str | None = Field(description="null when nothing older matches")
    scan_limited: bool = Field(
        description="the page stopped at the bytes one request reads from the files before it "
        "was full; next_cursor reads on"
    )
    ring_size: int = Field(description="records the ring holds at most ([logging] ring_size)")
    ring_held: int = Field(ge=0, description="records it holds now")


class LogFileItem(Shape):
    """One file of the log folder."""

    name: str
    size: int = Field(ge=0)
    modified_ms: int
    current: bool = Field(description="the file being written (master.log)")


class LogFileList(Shape):
    """GET /api/v1/logs/files: master.log, then its rotated copies newest first."""

    items: list[LogFileItem]
    count: int = Field(ge=0)
    enabled: bool = Field(description="whether the Master writes log files ([logging] file)")
