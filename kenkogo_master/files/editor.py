"""Small UTF-8 texts of the file area, read and written with a version against lost updates.

A text's version is a hash of its bytes: two editors that loaded the same text hold the same
version, and a write that names a version the file no longer has is refused instead of silently
undoing the other editor's change. Blocking: callers run these in a thread.
"""

from __future__ import annotations

import hashlib
import threading

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.files.entries import Entry
from kenkogo_master.files.paths import Parts, join
from kenkogo_master.files.sandbox import COPY_CHUNK, Sandbox

ANY = "*"


def version_of(data: bytes) -> str:
    """Return the version of a text: the start of the SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()[:32]


class TextEditor:
    """Reads and writes texts up to `limit` bytes through the sandbox."""

    def __init__(self, sandbox: Sandbox, limit: int) -> None:
        self.sandbox = sandbox
        self.limit = limit
        # Check and write happen under one lock, so two editors of this Master cannot both
        # pass the check before either writes.
        self._lock = threading.Lock()

    def read(self, parts: Parts) -> tuple[str, str, Entry]:
        """Return a file's text, its version and its entry."""
        opened = self.sandbox.open_file(parts)
        try:
            size = opened.entry.size
            if size > self.limit:
                raise HubError(ErrorCode.TOO_LARGE_TO_EDIT, size=size, limit=self.limit)
            data = opened.read_all(self.limit)
        finally:
            opened.close()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise HubError(ErrorCode.NOT_TEXT, path=join(parts)) from None
        return text, version_of(data), opened.entry

    def write(
        self, parts: Parts, data: bytes, expected: tuple[str, ...] | None
    ) -> tuple[bool, str, Entry]:
        """Create a file, or replace it if `expected` holds its version or `*`.

        Without `expected` (no If-Match) the file must not exist yet. Returns whether it was
        created, the new version and the entry.
        """
        path = join(parts)
        with self._lock:
            any_version = expected is not None and ANY in expected
            exists, current = self._current(parts, need_version=not any_version)
            if not exists:
                if expected is not None:  # RFC 9110: If-Match fails when there is nothing
                    raise HubError(ErrorCode.VERSION_MISMATCH, path=path)
            elif expected is None:
                raise HubError(ErrorCode.VERSION_REQUIRED, path=path)
            elif not any_version and current not in expected:
                raise HubError(ErrorCode.VERSION_MISMATCH, path=path)
            upload = self.sandbox.begin_upload(parts, overwrite=exists)
            try:
                upload.write(data)
                entry = upload.commit()
            finally:
                upload.discard()
        return not exists, version_of(data), entry

    def _current(self, parts: Parts, need_version: bool) -> tuple[bool, str | None]:
        """Return whether the file exists and, when asked and it could be edited, its version."""
        try:
            opened = self.sandbox.open_file(parts)
        except HubError as exc:
            if exc.code is ErrorCode.NOT_FOUND and exc.params.get("id") == join(parts):
                return False, None
            raise
        try:
            # A file over the limit never reached an editor, so no version can name it.
            if not need_version or opened.entry.size > self.limit:
                return True, None
            digest = hashlib.sha256()
            offset = 0
            while chunk := opened.read(offset, COPY_CHUNK):
                digest.update(chunk)
                offset += len(chunk)
            return True, digest.hexdigest()[:32]
        finally:
            opened.close()
