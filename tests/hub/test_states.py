"""The app state machine: exactly the documented transitions, anything else raises."""

from __future__ import annotations

import itertools

import pytest

from kenkogo_master.hub.states import AppState, IllegalTransition, check_transition

C, P, S, D = AppState.CONNECTED, AppState.PAUSED, AppState.SCHEDULING, AppState.DISCONNECTED

# PROTOCOL.md 2.1: connected → paused ⇄ scheduling → disconnected; any live state may drop;
# a disconnected instance comes back paused when it resumes.
LEGAL = {(C, P), (C, D), (P, S), (P, D), (S, P), (S, D), (D, P)}


def test_states_are_the_wire_names() -> None:
    assert [state.value for state in AppState] == [
        "connected",
        "paused",
        "scheduling",
        "disconnected",
    ]


@pytest.mark.parametrize(("from_state", "to_state"), sorted(LEGAL))
def test_legal_transitions_pass(from_state: AppState, to_state: AppState) -> None:
    check_transition(from_state, to_state)


@pytest.mark.parametrize(
    ("from_state", "to_state"),
    sorted(set(itertools.product(AppState, AppState)) - LEGAL),
)
def test_every_other_transition_raises(from_state: AppState, to_state: AppState) -> None:
    with pytest.raises(IllegalTransition) as raised:
        check_transition(from_state, to_state)

    assert (raised.value.from_state, raised.value.to_state) == (from_state, to_state)
    assert from_state.value in str(raised.value)
    assert to_state.value in str(raised.value)
