"""The live registry: sessions by id and by name, held names, and sessions waiting to resume."""

from __future__ import annotations

import time
from collections.abc import Iterator

from kenkogo_master.hub.sessions import AppSession
from kenkogo_master.hub.states import AppState


class Registry:
    """Index live sessions; remember disconnected ones for the resume window."""

    def __init__(self) -> None:
        self._live: dict[str, AppSession] = {}
        self._by_name: dict[str, list[AppSession]] = {}
        self._resumable: dict[str, tuple[AppSession, float]] = {}
        self.held: set[str] = set()

    def __len__(self) -> int:
        return len(self._live)

    def __iter__(self) -> Iterator[AppSession]:
        return iter(tuple(self._live.values()))

    def get(self, session_id: str) -> AppSession | None:
        """Return a live session by id."""
        return self._live.get(session_id)

    def add(self, session: AppSession) -> None:
        """Index a new connection."""
        self._live[session.id] = session

    def named(self, name: str) -> list[AppSession]:
        """Return the registered sessions of one app name."""
        return self._by_name.get(name, [])

    def names(self) -> list[str]:
        """Return the names that have registered sessions."""
        return list(self._by_name)

    def index_name(self, session: AppSession) -> None:
        """Index a session under its registered name."""
        assert session.name is not None
        self._by_name.setdefault(session.name, []).append(session)

    def remove(self, session: AppSession, resume_window: float) -> None:
        """Drop a disconnected session from the live indexes, keeping it resumable for a while."""
        self._live.pop(session.id, None)
        if session.name is not None:
            siblings = self._by_name.get(session.name, [])
            if session in siblings:
                siblings.remove(session)
            if not siblings:
                self._by_name.pop(session.name, None)
            if session.resumable:
                self._resumable[session.id] = (session, time.monotonic() + resume_window)

    def take_resumable(self, session_id: str, name: str) -> AppSession | None:
        """Hand back a disconnected session of `name` if its resume window is still open."""
        entry = self._resumable.get(session_id)
        if entry is None:
            return None
        session, deadline = entry
        if session.name != name or time.monotonic() > deadline:
            return None
        del self._resumable[session_id]
        assert session.state is AppState.DISCONNECTED
        return session

    def expire_resumable(self) -> list[AppSession]:
        """Forget sessions whose resume window has closed; return them."""
        now = time.monotonic()
        expired = [session for session, deadline in self._resumable.values() if deadline < now]
        for session in expired:
            del self._resumable[session.id]
        return expired
