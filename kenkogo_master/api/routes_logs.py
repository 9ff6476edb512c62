"""GET /api/v1/logs: the log records, newest first, from the ring and the files; the files."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field, StringConstraints

from kenkogo_master.api.answers import answers
from kenkogo_master.api.file_transfer import content_disposition
from kenkogo_master.api.json import query_model
from kenkogo_master.api.log_params import Level, LogMatch
from kenkogo_master.api.openapi_shapes_logs import LogFileItem, LogFileList, LogItem, LogPage
from kenkogo_master.api.routes_tokens import require_admin
from kenkogo_master.api.stats_params import EpochMs
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.keys import LOG_RING, SETTINGS
from kenkogo_master.observability.log_files import (
    SAFE_NAME,
    find_file,
    list_files,
    log_dir,
    open_file,
)
from kenkogo_master.observability.log_search import CURSOR, search

routes = web.RouteTableDef()

MAX_PAGE = 1000
SEND_CHUNK = 256 * 1024


class LogsQuery(LogMatch):
    """Query of GET /api/v1/logs."""

    level: Level | None = Field(None, description="this level and above")
    since: EpochMs | None = Field(None, description="records at or after this time")
    until: EpochMs | None = Field(None, description="records before this time")
    limit: int = Field(100, ge=1, le=MAX_PAGE)
    cursor: Annotated[str, StringConstraints(pattern=CURSOR)] | None = Field(
        None, description="next_cursor of the previous page"
    )


class LogFilePath(BaseModel):
    """Path of GET /api/v1/logs/files/{name}."""

    name: Annotated[str, StringConstraints(pattern=SAFE_NAME)] = Field(
        description="a name GET /api/v1/logs/files lists"
    )


@routes.get("/api/v1/logs")
@answers(LogPage)
async def list_logs(request: web.Request) -> LogPage:
    """Page through the log records newest first: the ring, then the rotating files."""
    require_admin(request)
    query = query_model(request, LogsQuery)
    if query.since is not None and query.until is not None and query.since > query.until:
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail="since: must not be after until")
    settings = request.app[SETTINGS]
    ring = request.app[LOG_RING]
    folder = log_dir(settings.storage.data_dir) if settings.logging.file else None
    wanted = query.log_filter(query.level, query.since, query.until)
    page = await asyncio.to_thread(search, ring, folder, wanted, query.limit, query.cursor)
    items = [LogItem(**entry.as_dict(), source=source) for entry, source in page.items]
    return LogPage(
        items=items,
        count=len(items),
        next_cursor=page.next_cursor,
        scan_limited=page.scan_limited,
        ring_size=ring.size,
        ring_held=len(ring),
    )


@routes.get("/api/v1/logs/files")
@answers(LogFileList)
async def list_log_files(request: web.Request) -> LogFileList:
    """List the files of the log folder: name, size, last change."""
    require_admin(request)
    settings = request.app[SETTINGS]
    files = await asyncio.to_thread(list_files, log_dir(settings.storage.data_dir))
    items = [LogFileItem(**item.as_dict()) for item in files]
    return LogFileList(items=items, count=len(items), enabled=settings.logging.file)


@routes.get("/api/v1/logs/files/{name}")
async def download_log_file(request: web.Request) -> web.StreamResponse:
    """Download one file of the log folder, streamed, as it is at the request's start."""
    require_admin(request)
    name = LogFilePath.model_validate(dict(request.match_info)).name
    folder = log_dir(request.app[SETTINGS].storage.data_dir)
    item = await asyncio.to_thread(find_file, folder, name)
    handle = await asyncio.to_thread(open_file, folder, item) if item is not None else None
    if handle is None:
        raise HubError(ErrorCode.NOT_FOUND, what="log file", id=name)
    try:
        size = os.fstat(handle.fileno()).st_size
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/plain; charset=utf-8",
                "Content-Disposition": content_disposition("attachment", name),
                "Content-Length": str(size),
                "Cache-Control": "no-store",
            }
        )
        await response.prepare(request)
        remaining = size
        while remaining > 0:
            chunk = await asyncio.to_thread(handle.read, min(SEND_CHUNK, remaining))
            if not chunk:
                break  # the file shrank: the client sees a short body
            await response.write(chunk)
            remaining -= len(chunk)
        await response.write_eof()
        return response
    finally:
        handle.close()
