"""A live app connection and what it registered."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from kenkogo_master.hub.ports import Peer
from kenkogo_master.hub.states import AppState
from kenkogo_master.protocol.apps import RegisterRequest


@dataclass(eq=False, slots=True)
class AppSession:
    """One app instance: its connection, registration and state."""

    id: str
    peer: Peer
    connected_ms: int
    state: AppState = AppState.CONNECTED
    registration: RegisterRequest | None = None
    registered_ms: int | None = None
    locale: str | None = None
    regexes: tuple[re.Pattern[str], ...] = ()
    # monotonic time of the last sign of life: connect, register or heartbeat
    last_seen: float = field(default_factory=time.monotonic)
    paused_by_operator: bool = False
    # false when kicked: an operator's kick must not be undone by an automatic resume
    resumable: bool = True
    # the deployment whose process connected (by the app token the supervisor gave it)
    deployment: str | None = None

    @property
    def name(self) -> str | None:
        """Return the registered name, if any."""
        return self.registration.name if self.registration else None

    @property
    def registered(self) -> bool:
        """Tell whether the session is registered and still connected."""
        return self.state in (AppState.PAUSED, AppState.SCHEDULING)
