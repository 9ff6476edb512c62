"""HTTP details of moving file bytes: ranges, dispositions, If-Match, streamed bodies."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import re
from email.utils import formatdate
from typing import Protocol
from urllib.parse import quote

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.files.area import FileArea
from kenkogo_master.files.sandbox import OpenFile, Upload

log = logging.getLogger(__name__)

SEND_CHUNK = 256 * 1024  # read per thread hop while sending; the socket's buffer bounds the rest
WRITE_BATCH = 1024 * 1024  # received bytes gathered before one write in a thread
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
_UNSAFE_ASCII = re.compile(r'[^\x20-\x7e]|["\\%;]')


def content_type(name: str) -> str:
    """Return the media type a file's name suggests, or application/octet-stream."""
    guessed, encoding = mimetypes.guess_type(name, strict=False)
    # A compressed file is sent as it is stored: its type is the compression's, not the inner one.
    if encoding is not None:
        return {"gzip": "application/gzip", "bzip2": "application/x-bzip2"}.get(
            encoding, "application/octet-stream"
        )
    return guessed or "application/octet-stream"


def content_disposition(disposition: str, name: str) -> str:
    """Return a Content-Disposition (RFC 6266) with an ASCII fallback and the UTF-8 name."""
    fallback = _UNSAFE_ASCII.sub("_", name) or "download"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def etag(size: int, modified_ns: int) -> str:
    """Return a download's strong validator: it changes with the file's size or time."""
    return f'"{modified_ns:x}-{size:x}"'


def last_modified(modified_ns: int) -> str:
    """Return an HTTP date."""
    return formatdate(modified_ns / 1e9, usegmt=True)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Return the one range (start, end exclusive) a Range header asks for, or None for all.

    A header that cannot be parsed, or asks for several ranges, is ignored as RFC 9110 allows;
    a range that starts past the end is refused (416).
    """
    if header is None:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:  # the last N bytes
        count = int(last)
        if count == 0 or size == 0:
            raise HubError(ErrorCode.RANGE_NOT_SATISFIABLE, size=size)
        return max(0, size - count), size
    start = int(first)
    end = int(last) + 1 if last else size
    if last and end <= start:
        return None
    if start >= size:
        raise HubError(ErrorCode.RANGE_NOT_SATISFIABLE, size=size)
    return start, min(end, size)


def if_match_tags(header: str | None) -> tuple[str, ...] | None:
    """Return the versions an If-Match header names (`*` for any), or None without one.

    Tags are compared strongly, so weak ones (W/"...") name nothing; unquoted ones are taken
    as they are, for clients that send the version bare.
    """
    if header is None:
        return None
    tags = []
    for raw in header.split(","):
        tag = raw.strip()
        if tag == "*" or not tag.startswith("W/"):
            tags.append(tag[1:-1] if len(tag) >= 2 and tag[0] == tag[-1] == '"' else tag)
    return tuple(tags)


async def send_file(
    request: web.Request,
    opened: OpenFile,
    span: tuple[int, int] | None,
    headers: dict[str, str],
    area: FileArea,
) -> web.StreamResponse:
    """Stream a file (or one range of it) in chunks; memory holds one chunk at a time."""
    size = opened.entry.size
    start, end = span if span is not None else (0, size)
    response = web.StreamResponse(status=206 if span is not None else 200, headers=headers)
    if span is not None:
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    response.content_length = end - start
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    offset = start
    try:
        while offset < end:
            chunk = await area.run(opened.read, offset, min(SEND_CHUNK, end - offset))
            if not chunk:  # the file shrank while sent: end the connection short, not padded
                if request.transport is not None:
                    request.transport.close()
                return response
            # write() waits for the socket to drain past a small buffer: a slow reader slows us.
            await response.write(chunk)
            offset += len(chunk)
        await response.write_eof()
    except ConnectionError:  # the reader went away: nothing is wrong here
        log.debug("a download of %s ended after %d bytes", opened.entry.path, offset - start)
    return response


class Chunks(Protocol):
    """A body read in pieces (a request's content, or one part of a multipart body)."""

    async def __call__(self) -> bytes:
        """Return the next piece, or b"" at the end."""
        ...


async def receive(chunks: Chunks, upload: Upload, received: int, limit: int, area: FileArea) -> int:
    """Write a streamed body into an upload, refusing it as soon as it passes `limit`.

    `received` counts what earlier files of the same request took; returns the new count. No
    byte past the limit reaches the disk: the check comes before each write.
    """
    batch = bytearray()
    try:
        while chunk := await chunks():
            received += len(chunk)
            if received > limit:
                raise HubError(ErrorCode.PAYLOAD_TOO_LARGE, size=received, limit=limit)
            batch += chunk
            if len(batch) >= WRITE_BATCH:
                await area.run(upload.write, bytes(batch))
                batch.clear()
    except (ConnectionError, HttpProcessingError, asyncio.IncompleteReadError) as exc:
        # The client went away mid-body: nothing to answer, and the caller drops the file.
        log.info("an upload to %s was cut short: %s", "/".join(upload.parts), exc)
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail="the upload was cut short") from None
    if batch:
        await area.run(upload.write, bytes(batch))
    return received


async def read_body(request: web.Request, limit: int) -> bytes:
    """Return a body of at most `limit` bytes, refused as soon as it passes the limit."""
    refuse_declared(request, limit)
    body = bytearray()
    try:
        while chunk := await request.content.readany():
            size = len(body) + len(chunk)
            if size > limit:
                raise HubError(ErrorCode.PAYLOAD_TOO_LARGE, size=size, limit=limit)
            body += chunk
    except (ConnectionError, HttpProcessingError, asyncio.IncompleteReadError):
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail="the body was cut short") from None
    return bytes(body)


def refuse_declared(request: web.Request, limit: int) -> None:
    """Refuse a body whose declared length is over `limit` before reading any of it."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise HubError(ErrorCode.PAYLOAD_TOO_LARGE, size=declared, limit=limit)
