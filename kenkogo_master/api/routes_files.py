"""REST resources of the file area: list, total, download, upload, move, copy, delete, edit.

Every path goes through `files.paths.parse` and then the sandbox, which alone touches the disk;
all disk work runs in the area's threads. Reads need any token, changes the admin scope (the
auth middleware refuses a read token every non-GET method).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Literal

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import BaseModel, ConfigDict, Field

from kenkogo_master.api.answers import Reply, answers
from kenkogo_master.api.errors import error_response, streams_body
from kenkogo_master.api.file_transfer import (
    SEND_CHUNK,
    byte_range,
    content_disposition,
    content_type,
    etag,
    if_match_tags,
    last_modified,
    read_body,
    receive,
    refuse_declared,
    send_file,
)
from kenkogo_master.api.json import body_model, query_model
from kenkogo_master.api.openapi_shapes_files import (
    FileCopy,
    FileDeleted,
    FileEntry,
    FileList,
    FileUsage,
    TextFile,
    TextSaved,
    Uploaded,
)
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.files.area import FileArea
from kenkogo_master.files.entries import Entry, Kind
from kenkogo_master.files.paths import join, parse, parse_name
from kenkogo_master.files.sandbox import Upload
from kenkogo_master.keys import EVENT_BUS, FILES, HUB

routes = web.RouteTableDef()
# Past any real folder, and within what a JSON answer can echo back (64 bits).
MAX_OFFSET = 1_000_000_000

# Room for a multipart body's boundaries and part headers on top of files.max_upload.
MULTIPART_SLACK = 64 * 1024
# A folder's total stops after this long or this many names unless asked for less.
USAGE_SECONDS = 2.0
USAGE_ENTRIES = 1_000_000

CHANGED_TOPIC = "files.changed"

_PATH = "relative to the file area's root, parts joined by /; the root is the empty path"


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FilePathQuery(_Query):
    """A file's path."""

    path: str = Field(description=_PATH)


class ListQuery(_Query):
    """Query of GET /api/v1/files."""

    path: str = Field("", description=_PATH)
    sort: Literal["name", "size", "modified", "kind"] = "name"
    order: Literal["asc", "desc"] = "asc"
    folders_first: bool = True
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class UsageQuery(_Query):
    """Query of GET /api/v1/files/usage."""

    path: str = Field("", description=_PATH)
    max_seconds: float = Field(USAGE_SECONDS, gt=0, le=USAGE_SECONDS)
    max_entries: int = Field(USAGE_ENTRIES, ge=1, le=USAGE_ENTRIES)


class DownloadQuery(_Query):
    """Query of GET /api/v1/files/content."""

    path: str = Field(description=_PATH)
    disposition: Literal["attachment", "inline"] = "attachment"


class UploadQuery(_Query):
    """Query of PUT /api/v1/files/content."""

    path: str = Field(description=_PATH)
    overwrite: bool = False


class FolderUploadQuery(_Query):
    """Query of POST /api/v1/files/upload: the folder the files go into."""

    path: str = Field("", description=_PATH)
    overwrite: bool = False


class FolderDeleteQuery(_Query):
    """Query of DELETE /api/v1/files."""

    path: str = Field(description=_PATH)
    recursive: bool = False


class FolderBody(BaseModel):
    """Body of POST /api/v1/files/folder."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description=_PATH)


class TransferBody(BaseModel):
    """Body of POST /api/v1/files/move and /copy."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)

    source: str = Field(alias="from", description=_PATH)
    target: str = Field(alias="to", description=_PATH)
    overwrite: bool = False


def file_area(request: web.Request) -> FileArea:
    """Return the file area, or refuse where this system cannot confine paths to it."""
    area = request.app.get(FILES)
    if area is None:
        raise HubError(ErrorCode.FILE_ERROR, path="", detail="the file area is off on this system")
    return area


def changed(request: web.Request, action: str, *paths: str) -> None:
    """Tell live readers (the panel, in every tab) which names in the file area changed."""
    request.app[EVENT_BUS].publish(CHANGED_TOPIC, {"action": action, "paths": list(paths)})


def _sorted(entries: list[Entry], query: ListQuery) -> list[Entry]:
    """Return entries in the asked order; folders first unless told otherwise."""
    keys = {
        "name": lambda e: (e.name.casefold(), e.name),
        "size": lambda e: (e.size, e.name.casefold()),
        "modified": lambda e: (e.modified_ns, e.name.casefold()),
        "kind": lambda e: (e.kind.value, e.name.casefold()),
    }
    ordered = sorted(entries, key=keys[query.sort], reverse=query.order == "desc")
    if query.folders_first:
        ordered.sort(key=lambda e: e.kind is not Kind.DIR)  # stable: the order above stays
    return ordered


@routes.get("/api/v1/files")
@answers(FileList)
async def list_files(request: web.Request) -> FileList:
    """List a folder: files, folders, links and special files, sorted and paged."""
    query = query_model(request, ListQuery)
    area = file_area(request)
    parts = parse(query.path)
    entries = await area.run(area.sandbox.listing, parts)
    page = _sorted(entries, query)[query.offset : query.offset + query.limit]
    listing = FileList(
        path=join(parts),
        items=[FileEntry.of(entry) for entry in page],
        total=len(entries),
        offset=query.offset,
        limit=query.limit,
    )
    return listing


@routes.get("/api/v1/files/usage")
@answers(FileUsage)
async def file_usage(request: web.Request) -> FileUsage:
    """Add up a folder's size and files, within a time and entry budget."""
    query = query_model(request, UsageQuery)
    area = file_area(request)
    parts = parse(query.path)
    usage = await area.run(area.sandbox.usage, parts, query.max_seconds, query.max_entries)
    return FileUsage.of(usage)


def _if_range_holds(header: str | None, tag: str, modified: str) -> bool:
    """Return whether an If-Range header (if any) still names this version of the file."""
    if header is None:
        return True
    header = header.strip()
    return header == tag if header.startswith('"') else header == modified


@routes.get("/api/v1/files/content")
async def download_file(request: web.Request) -> web.StreamResponse:
    """Download a file, streamed; a single `Range` is honoured (206)."""
    query = query_model(request, DownloadQuery)
    area = file_area(request)
    opened = await area.run(area.sandbox.open_file, parse(query.path))
    try:
        entry = opened.entry
        tag, modified = etag(entry.size, entry.modified_ns), last_modified(entry.modified_ns)
        headers = {
            "Content-Type": content_type(entry.name),
            "Content-Disposition": content_disposition(query.disposition, entry.name),
            "Accept-Ranges": "bytes",
            "ETag": tag,
            "Last-Modified": modified,
            "Cache-Control": "private, no-cache",
            # The panel's origin serves these bytes: never let them run as a page there.
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        }
        span = None
        if _if_range_holds(request.headers.get("If-Range"), tag, modified):
            try:
                span = byte_range(request.headers.get("Range"), entry.size)
            except HubError as exc:
                response = error_response(request.app[HUB], request, exc)
                response.headers["Content-Range"] = f"bytes */{entry.size}"
                return response
        return await send_file(request, opened, span, headers, area)
    finally:
        opened.close()


async def _drop(area: FileArea, upload: Upload) -> None:
    """Remove an upload's temporary file, even while the request is being cancelled."""
    await asyncio.shield(area.run(upload.discard))


@routes.put("/api/v1/files/content")
@streams_body
@answers(FileEntry, status=(200, 201))
async def upload_file(request: web.Request) -> Reply[FileEntry]:
    """Write a file from the raw body; it appears only once complete (201 new, 200 replaced).

    The body streams to a hidden temporary file beside the target, refused with 413 as soon
    as it passes files.max_upload; an upload cut short leaves nothing behind.
    """
    query = query_model(request, UploadQuery)
    area = file_area(request)
    parts = parse(query.path)
    refuse_declared(request, area.max_upload)
    upload = await area.run(area.sandbox.begin_upload, parts, query.overwrite)
    try:
        await receive(request.content.readany, upload, 0, area.max_upload, area)
        entry = await area.run(upload.commit)
    finally:
        await _drop(area, upload)
    changed(request, "upload", entry.path)
    return Reply(FileEntry.of(entry), 200 if upload.existed else 201)


def _multipart_error(detail: str) -> HubError:
    return HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)


@routes.post("/api/v1/files/upload")
@streams_body
@answers(Uploaded, status=201)
async def upload_files(request: web.Request) -> Uploaded:
    """Upload files (multipart/form-data) into a folder: all of them, or none.

    Each part with a file name becomes a file of that name; files.max_upload bounds the files
    of one request together.
    """
    query = query_model(request, FolderUploadQuery)
    area = file_area(request)
    folder = parse(query.path)
    refuse_declared(request, area.max_upload + MULTIPART_SLACK)
    if request.content_type != "multipart/form-data":
        raise _multipart_error("the body must be multipart/form-data")
    uploads: list[Upload] = []
    try:
        try:
            reader = await request.multipart()
            received = 0
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader) or part.filename is None:
                    raise _multipart_error("every part must be a file with a file name")
                name = parse_name(query.path, part.filename)
                if any(upload.parts[-1] == name for upload in uploads):
                    raise _multipart_error(f"the file name {name} comes twice")
                upload = await area.run(area.sandbox.begin_upload, (*folder, name), query.overwrite)
                uploads.append(upload)
                chunks = functools.partial(part.read_chunk, SEND_CHUNK)
                received = await receive(chunks, upload, received, area.max_upload, area)
        except (ValueError, HttpProcessingError) as exc:  # aiohttp's words for a malformed body
            raise _multipart_error(f"a malformed multipart body ({exc})") from None
        except (ConnectionError, asyncio.IncompleteReadError):  # between two parts
            raise _multipart_error("the upload was cut short") from None
        if not uploads:
            raise _multipart_error("no file in the body")
        entries = [await area.run(upload.commit) for upload in uploads]
    finally:
        for upload in uploads:
            await _drop(area, upload)
    items = [FileEntry.of(entry) for entry in entries]
    changed(request, "upload", *(entry.path for entry in entries))
    return Uploaded(items=items, count=len(items))


@routes.post("/api/v1/files/folder")
@answers(FileEntry, status=201)
async def create_folder(request: web.Request) -> FileEntry:
    """Create a folder; its parent must exist."""
    body = await body_model(request, FolderBody)
    area = file_area(request)
    entry = await area.run(area.sandbox.make_folder, parse(body.path))
    changed(request, "folder", entry.path)
    return FileEntry.of(entry)


@routes.post("/api/v1/files/move")
@answers(FileEntry)
async def move_file(request: web.Request) -> FileEntry:
    """Rename or move a file or folder (a link moves as itself)."""
    body = await body_model(request, TransferBody)
    area = file_area(request)
    source, target = parse(body.source), parse(body.target)
    entry = await area.run(area.sandbox.move, source, target, body.overwrite)
    changed(request, "move", join(source), entry.path)
    return FileEntry.of(entry)


@routes.post("/api/v1/files/copy")
@answers(FileCopy, status=201)
async def copy_file(request: web.Request) -> FileCopy:
    """Copy a file or a folder tree; links and special files inside are left out."""
    body = await body_model(request, TransferBody)
    area = file_area(request)
    source, target = parse(body.source), parse(body.target)
    copied = await area.run(area.sandbox.copy, source, target, body.overwrite)
    changed(request, "copy", copied.entry.path)
    return FileCopy.of(copied)


@routes.delete("/api/v1/files/content")
@answers(FileDeleted)
async def delete_file(request: web.Request) -> FileDeleted:
    """Delete a file, or a symbolic link itself (never what it points at)."""
    query = query_model(request, FilePathQuery)
    area = file_area(request)
    parts = parse(query.path)
    await area.run(area.sandbox.remove_file, parts)
    changed(request, "delete", join(parts))
    return FileDeleted(path=join(parts), deleted=True)


@routes.delete("/api/v1/files")
@answers(FileDeleted)
async def delete_folder(request: web.Request) -> FileDeleted:
    """Delete a folder; one with contents only with `recursive=true`."""
    query = query_model(request, FolderDeleteQuery)
    area = file_area(request)
    parts = parse(query.path)
    await area.run(area.sandbox.remove_folder, parts, query.recursive)
    changed(request, "delete", join(parts))
    return FileDeleted(path=join(parts), deleted=True)


@routes.get("/api/v1/files/text")
@answers(TextFile)
async def read_text(request: web.Request) -> Reply[TextFile]:
    """Open a UTF-8 text file for editing; its version comes as `version` and ETag."""
    query = query_model(request, FilePathQuery)
    area = file_area(request)
    parts = parse(query.path)
    text, version, entry = await area.run(area.editor.read, parts)
    answer = TextFile(
        path=join(parts),
        text=text,
        version=version,
        size=entry.size,
        modified_ms=entry.modified_ns // 1_000_000,
    )
    return Reply(answer, headers={"ETag": f'"{version}"'})


@routes.put("/api/v1/files/text")
@streams_body
@answers(TextSaved, status=(200, 201))
async def write_text(request: web.Request) -> Reply[TextSaved]:
    """Save a text file from the raw UTF-8 body, if `If-Match` names its current version.

    A new file needs no If-Match (201); an existing one needs the version it was read at, or
    `*` (412 when it changed since, 428 without the header).
    """
    query = query_model(request, FilePathQuery)
    area = file_area(request)
    parts = parse(query.path)
    data = await read_body(request, area.editor.limit)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail="the text is not UTF-8") from None
    expected = if_match_tags(request.headers.get("If-Match"))
    created, version, entry = await area.run(area.editor.write, parts, data, expected)
    changed(request, "edit", entry.path)
    answer = TextSaved(
        path=join(parts),
        version=version,
        created=created,
        size=entry.size,
        modified_ms=entry.modified_ns // 1_000_000,
    )
    return Reply(answer, 201 if created else 200, {"ETag": f'"{version}"'})
