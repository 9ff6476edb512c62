"""REST resources of resumable uploads: open, add a chunk, look, commit, cancel.

A client opens an upload with the file's path and size, sends the bytes in as many PUTs as it
likes (each names the offset it starts at, which must be where the upload ends), and commits it
once complete: only then does the file appear at its path. After a cut connection it asks the
upload's `offset` and goes on from there. Every path check of the file area applies, and no
byte past the declared size (itself at most files.max_upload) reaches the disk.
"""

from __future__ import annotations

import asyncio
import logging
import re

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from kenkogo_master.api.answers import Reply, answers
from kenkogo_master.api.errors import streams_body
from kenkogo_master.api.file_transfer import receive, refuse_declared
from kenkogo_master.api.json import body_model, query_model
from kenkogo_master.api.openapi_shapes_files import (
    FileEntry,
    UploadDropped,
    UploadList,
    UploadState,
)
from kenkogo_master.api.routes_files import changed, file_area
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.files.area import FileArea
from kenkogo_master.files.entries import Entry
from kenkogo_master.files.paths import parse
from kenkogo_master.files.sandbox import Upload
from kenkogo_master.files.uploads import UploadSession

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


class UploadCreate(BaseModel):
    """Body of POST /api/v1/files/uploads."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="the file to write, relative to the file area's root")
    size: int = Field(ge=0, description="the whole file's bytes; at most files.max_upload")
    overwrite: bool = False


class ChunkQuery(BaseModel):
    """Query of PUT /api/v1/files/uploads/{id}."""

    model_config = ConfigDict(extra="forbid")

    offset: int = Field(ge=0, description="where this chunk starts: the upload's `offset`")


def _state(area: FileArea, session: UploadSession) -> UploadState:
    return UploadState(
        id=session.id,
        path=session.path,
        size=session.size,
        offset=session.offset,
        complete=session.offset == session.size,
        overwrite=session.overwrite,
        chunk_size=area.upload_chunk,
        created_ms=session.created_ms,
        updated_ms=session.updated_ms,
        expires_ms=area.uploads.expires_ms(session),
    )


async def _remove_part(area: FileArea, session: UploadSession) -> None:
    """Remove an ended session's part file, even while the request is being cancelled."""
    try:
        await asyncio.shield(area.run(area.sandbox.drop_part, session.parts, session.temp))
    except HubError as exc:  # its folder went (moved, deleted): the part file went with it
        log.debug("the part file of upload %s: %s", session.id, exc.code)


async def _sweep(area: FileArea) -> None:
    """Drop the sessions idle longer than files.upload_idle, with their part files."""
    for session in area.uploads.expired():
        log.info("an unfinished upload to %s expired", session.path)
        await _remove_part(area, session)


def _content_range(header: str | None, offset: int, size: int) -> int | None:
    """Return the end (exclusive) a Content-Range header gives the chunk, after checking it."""
    if header is None:
        return None
    match = _CONTENT_RANGE.match(header)
    if match is None:
        detail = "Content-Range must be `bytes FIRST-LAST/SIZE` (SIZE may be *)"
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)
    first, last, total = int(match.group(1)), int(match.group(2)), match.group(3)
    if first != offset:
        raise HubError(ErrorCode.UPLOAD_OFFSET_MISMATCH, offset=offset, asked=first)
    if last < first or (total != "*" and int(total) != size):
        detail = f"Content-Range {header.strip()} does not fit an upload of {size} bytes"
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)
    return last + 1


@routes.get("/api/v1/files/uploads")
@answers(UploadList)
async def list_uploads(request: web.Request) -> UploadList:
    """List the unfinished resumable uploads, oldest first."""
    area = file_area(request)
    await _sweep(area)
    return UploadList(items=[_state(area, session) for session in area.uploads.listing()])


@routes.post("/api/v1/files/uploads")
@answers(UploadState, status=201)
async def open_upload(request: web.Request) -> UploadState:
    """Begin a resumable upload: check the path and size, and make its empty part file.

    What the commit would refuse is refused now: a path outside the file area, a missing
    folder, an existing target without `overwrite`, a size over files.max_upload.
    """
    body = await body_model(request, UploadCreate)
    area = file_area(request)
    parts = parse(body.path)
    if body.size > area.max_upload:
        raise HubError(ErrorCode.PAYLOAD_TOO_LARGE, size=body.size, limit=area.max_upload)
    await _sweep(area)
    session = area.uploads.open(parts, body.size, body.overwrite)
    try:
        upload = await area.run(area.sandbox.begin_upload, parts, body.overwrite, session.temp)
        await area.run(upload.keep)
    except BaseException:
        area.uploads.forget(session.id)
        raise
    return _state(area, session)


@routes.get("/api/v1/files/uploads/{id}")
@answers(UploadState)
async def get_upload(request: web.Request) -> UploadState:
    """Tell how much of an upload has arrived: the next chunk starts at `offset`."""
    area = file_area(request)
    await _sweep(area)
    return _state(area, area.uploads.get(request.match_info["id"]))


@routes.put("/api/v1/files/uploads/{id}")
@streams_body
@answers(UploadState)
async def add_upload_chunk(request: web.Request) -> UploadState:
    """Append the raw body at `offset`, which must be where the upload ends (409 otherwise).

    The chunk is kept whole or not at all: one cut short, or going past the declared size
    (413, checked while it streams), leaves the upload as it was.
    """
    query = query_model(request, ChunkQuery)
    area = file_area(request)
    session = area.uploads.take(request.match_info["id"])
    try:
        if query.offset != session.offset:
            raise HubError(
                ErrorCode.UPLOAD_OFFSET_MISMATCH, offset=session.offset, asked=query.offset
            )
        end = _content_range(request.headers.get("Content-Range"), query.offset, session.size)
        refuse_declared(request, session.size - query.offset)
        upload = await area.run(
            area.sandbox.resume_upload,
            session.parts,
            session.overwrite,
            session.temp,
            query.offset,
        )
        await _receive(request, area, upload, session.size, end)
        session.offset = upload.size
    finally:
        area.uploads.give_back(session)
        if not area.uploads.holds(session):  # cancelled while the chunk arrived
            await _remove_part(area, session)
    if not area.uploads.holds(session):
        raise HubError(ErrorCode.NOT_FOUND, what="upload", id=session.id)
    return _state(area, session)


async def _receive(
    request: web.Request, area: FileArea, upload: Upload, size: int, end: int | None
) -> None:
    """Stream one chunk into the part file; drop it whole unless it arrived whole."""
    try:
        await receive(request.content.readany, upload, upload.start, size, area)
        if end is not None and upload.size != end:
            detail = f"Content-Range ends at byte {end}, the body at byte {upload.size}"
            raise HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)
    except BaseException:
        await asyncio.shield(area.run(upload.rewind))
        raise
    await area.run(upload.keep)


@routes.post("/api/v1/files/uploads/{id}/commit")
@answers(FileEntry, status=(200, 201))
async def commit_upload(request: web.Request) -> Reply[FileEntry]:
    """Place a complete upload at its path (201 new, 200 replaced); the upload ends.

    409 `upload_incomplete` while bytes are missing (the upload stays). A commit refused for
    any other reason (the target appeared meanwhile, its folder went) ends the upload too.
    """
    area = file_area(request)
    session = area.uploads.take(request.match_info["id"])
    try:
        if session.offset != session.size:
            raise HubError(ErrorCode.UPLOAD_INCOMPLETE, offset=session.offset, size=session.size)
        try:
            entry, existed = await _place(area, session)
        finally:
            area.uploads.forget(session.id)
    finally:
        area.uploads.give_back(session)
    changed(request, "upload", entry.path)
    return Reply(FileEntry.of(entry), 200 if existed else 201)


async def _place(area: FileArea, session: UploadSession) -> tuple[Entry, bool]:
    """Move the part file onto its target; return the entry and whether one was replaced."""
    try:
        upload = await area.run(
            area.sandbox.resume_upload,
            session.parts,
            session.overwrite,
            session.temp,
            session.size,
        )
    except HubError:
        await _remove_part(area, session)
        raise
    try:
        entry = await area.run(upload.commit)
    finally:
        await asyncio.shield(area.run(upload.discard))
    return entry, upload.existed


@routes.delete("/api/v1/files/uploads/{id}")
@answers(UploadDropped)
async def cancel_upload(request: web.Request) -> UploadDropped:
    """Cancel an upload and remove what arrived of it; the target is not touched."""
    area = file_area(request)
    session = area.uploads.get(request.match_info["id"])
    area.uploads.forget(session.id)
    if not session.busy:  # else the request adding a chunk removes it when it ends
        await _remove_part(area, session)
    return UploadDropped(id=session.id, path=session.path, deleted=True)
