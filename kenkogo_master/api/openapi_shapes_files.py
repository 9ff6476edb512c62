"""Answers of the file area's REST resources: the handlers build these, the document shows them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kenkogo_master.api.openapi_shapes import Shape
from kenkogo_master.files.entries import Copied, Entry, Kind, Usage


class FileEntry(Shape):
    """One name in the file area; links and special files are shown, never followed."""

    name: str
    path: str = Field(description="relative to the file area's root, parts joined by /")
    kind: Kind
    size: int = Field(ge=0, description="bytes (a folder's own size, not its contents')")
    modified_ms: int
    mode: str = Field(description="permission bits in octal, e.g. 0644")
    target: str | None = Field(description="what a symbolic link points at; null otherwise")

    @classmethod
    def of(cls, entry: Entry) -> FileEntry:
        """Describe an entry of the sandbox."""
        return cls(
            name=entry.name,
            path=entry.path,
            kind=entry.kind,
            size=entry.size,
            modified_ms=entry.modified_ns // 1_000_000,
            mode=f"{entry.mode:04o}",
            target=entry.target,
        )


class FileList(Shape):
    """GET /api/v1/files: one page of a folder; `total` counts every name in it."""

    path: str
    items: list[FileEntry]
    total: int
    offset: int
    limit: int


class FileUsage(Shape):
    """GET /api/v1/files/usage: `complete` is false when a budget ran out first."""

    path: str
    size: int = Field(description="bytes in regular files")
    files: int
    folders: int
    others: int = Field(description="links and special files, counted, never followed")
    complete: bool
    elapsed_ms: float

    @classmethod
    def of(cls, usage: Usage) -> FileUsage:
        """Describe the sandbox's total."""
        return cls(
            path=usage.path,
            size=usage.size,
            files=usage.files,
            folders=usage.folders,
            others=usage.others,
            complete=usage.complete,
            elapsed_ms=round(usage.elapsed_s * 1000, 3),
        )


class Uploaded(Shape):
    """POST /api/v1/files/upload: the files written, all or none."""

    items: list[FileEntry]
    count: int


class FileCopy(Shape):
    """POST /api/v1/files/copy: the new entry and what went into it."""

    entry: FileEntry
    files: int
    folders: int
    size: int
    skipped: int = Field(description="links and special files left out")

    @classmethod
    def of(cls, copied: Copied) -> FileCopy:
        """Describe the sandbox's copy."""
        return cls(
            entry=FileEntry.of(copied.entry),
            files=copied.files,
            folders=copied.folders,
            size=copied.size,
            skipped=copied.skipped,
        )


class FileDeleted(Shape):
    """DELETE /api/v1/files/content and /api/v1/files."""

    path: str
    deleted: Literal[True]


class TextFile(Shape):
    """GET /api/v1/files/text: the text, and the version to send back in If-Match."""

    path: str
    text: str
    version: str
    size: int
    modified_ms: int


class TextSaved(Shape):
    """PUT /api/v1/files/text: the new version."""

    path: str
    version: str
    created: bool
    size: int
    modified_ms: int


class UploadState(Shape):
    """A resumable upload: where it goes, how big it is, and how much has arrived."""

    id: str
    path: str = Field(description="the file it becomes, relative to the file area's root")
    size: int = Field(ge=0, description="the whole file's bytes, as declared when it began")
    offset: int = Field(ge=0, description="bytes received so far: the next chunk starts here")
    complete: bool = Field(description="every byte arrived: commit it")
    overwrite: bool
    chunk_size: int = Field(description="bytes to send per request (files.upload_chunk)")
    created_ms: int
    updated_ms: int = Field(description="when the last chunk arrived")
    expires_ms: int = Field(description="when it is dropped unless a chunk arrives first")


class UploadList(Shape):
    """GET /api/v1/files/uploads: the unfinished uploads, oldest first."""

    items: list[UploadState]


class UploadDropped(Shape):
    """DELETE /api/v1/files/uploads/{id}: the upload and its part file are gone."""

    id: str
    path: str
    deleted: Literal[True]
