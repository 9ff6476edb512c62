"""The app state machine: connected → paused ⇄ scheduling → disconnected (→ paused on resume)."""

from __future__ import annotations

from enum import StrEnum


class AppState(StrEnum):
    """Where an app connection stands."""

    CONNECTED = "connected"  # socket open, not registered yet
    PAUSED = "paused"  # registered, receives no messages
    SCHEDULING = "scheduling"  # registered, receives messages
    DISCONNECTED = "disconnected"  # gone; resumable within resume_window, then history


ALLOWED: dict[AppState, frozenset[AppState]] = {
    AppState.CONNECTED: frozenset({AppState.PAUSED, AppState.DISCONNECTED}),
    AppState.PAUSED: frozenset({AppState.SCHEDULING, AppState.DISCONNECTED}),
    AppState.SCHEDULING: frozenset({AppState.PAUSED, AppState.DISCONNECTED}),
    AppState.DISCONNECTED: frozenset({AppState.PAUSED}),  # a resume
}


class IllegalTransition(RuntimeError):
    """A state change the machine forbids: a bug in the caller, never silently ignored."""

    def __init__(self, from_state: AppState, to_state: AppState) -> None:
        super().__init__(f"illegal transition {from_state.value} → {to_state.value}")
        self.from_state = from_state
        self.to_state = to_state


def check_transition(from_state: AppState, to_state: AppState) -> None:
    """Raise IllegalTransition unless `from_state` may move to `to_state`."""
    if to_state not in ALLOWED[from_state]:
        raise IllegalTransition(from_state, to_state)
