"""Resumable uploads: sessions that take one file in chunks and place it only when complete.

A session owns a hidden part file beside its target (`.kenkogo-upload-<id>.part`). Each chunk
is appended at the offset the client names, which must be where the part file ends; a chunk
cut short is dropped whole, so the part file only ever holds accepted chunks. The target
appears only when the client commits a complete upload. Sessions live in memory: one left idle
longer than `files.upload_idle` is dropped, and a stop drops what is left.

Only bookkeeping happens here; the sandbox touches the disk.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.files.paths import Parts, is_within, join
from kenkogo_master.files.sandbox import part_name

# Unfinished uploads kept at once: each holds a part file, and a client that opens sessions
# without finishing them must not fill the disk with them.
MAX_SESSIONS = 64


def now_ms() -> int:
    """Return the wall clock in epoch milliseconds."""
    return time.time_ns() // 1_000_000


@dataclass(slots=True)
class UploadSession:
    """One resumable upload: where it goes, how big it is, and how much has arrived."""

    id: str
    parts: Parts
    size: int
    overwrite: bool
    created_ms: int
    updated_ms: int
    offset: int = 0
    busy: bool = False  # a request is adding a chunk or committing right now
    touched: float = field(default_factory=time.monotonic)

    @property
    def temp(self) -> str:
        """Return the name of the part file, beside the target."""
        return part_name(self.id)

    @property
    def path(self) -> str:
        """Return the target's path as the API spells it."""
        return join(self.parts)


class Uploads:
    """The unfinished resumable uploads of one file area."""

    def __init__(
        self,
        idle_seconds: float,
        limit: int = MAX_SESSIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_seconds = idle_seconds
        self.limit = limit
        self._clock = clock
        self._sessions: dict[str, UploadSession] = {}

    def open(self, parts: Parts, size: int, overwrite: bool) -> UploadSession:
        """Start a session (its part file is the caller's to create)."""
        if len(self._sessions) >= self.limit:
            raise HubError(ErrorCode.TOO_MANY_UPLOADS, limit=self.limit)
        stamp = now_ms()
        session = UploadSession(
            id=secrets.token_hex(16),
            parts=parts,
            size=size,
            overwrite=overwrite,
            created_ms=stamp,
            updated_ms=stamp,
            touched=self._clock(),
        )
        self._sessions[session.id] = session
        return session

    def get(self, upload_id: str) -> UploadSession:
        """Return a session, or raise 404."""
        session = self._sessions.get(upload_id)
        if session is None:
            raise HubError(ErrorCode.NOT_FOUND, what="upload", id=upload_id)
        return session

    def take(self, upload_id: str) -> UploadSession:
        """Return a session for one request to work on; refuse a second one meanwhile."""
        session = self.get(upload_id)
        if session.busy:
            raise HubError(ErrorCode.UPLOAD_BUSY)
        session.busy = True
        return session

    def give_back(self, session: UploadSession) -> None:
        """End a request's work on a session; its idle time starts again."""
        session.busy = False
        session.touched = self._clock()
        session.updated_ms = now_ms()

    def holds(self, session: UploadSession) -> bool:
        """Tell whether the session is still open (not cancelled or expired meanwhile)."""
        return self._sessions.get(session.id) is session

    def forget(self, upload_id: str) -> UploadSession | None:
        """End a session; return it, so that the caller removes its part file."""
        return self._sessions.pop(upload_id, None)

    def listing(self, folder: Parts | None = None) -> list[UploadSession]:
        """Return the open sessions, oldest first; only those below `folder` when given."""
        found = sorted(self._sessions.values(), key=lambda item: item.created_ms)
        if folder is None:
            return found
        return [item for item in found if is_within(item.parts[:-1], folder)]

    def expired(self) -> list[UploadSession]:
        """End the sessions idle too long and return them (their part files are to go)."""
        deadline = self._clock() - self.idle_seconds
        gone = [s for s in self._sessions.values() if not s.busy and s.touched < deadline]
        for session in gone:
            del self._sessions[session.id]
        return gone

    def expires_ms(self, session: UploadSession) -> int:
        """Return when an idle session will be dropped, in epoch milliseconds."""
        return session.updated_ms + round(self.idle_seconds * 1000)

    def clear(self) -> list[UploadSession]:
        """End every session (the Master stops) and return them."""
        gone = list(self._sessions.values())
        self._sessions.clear()
        return gone
