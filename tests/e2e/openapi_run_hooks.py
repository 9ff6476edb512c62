"""Hooks of the schemathesis run over the REST API, loaded through SCHEMATHESIS_HOOKS."""

from __future__ import annotations

from typing import Any

import schemathesis

# A simulated conversation waits out its whole window (up to 30 s): keep the run's short.
SIMULATE_WAIT_MS = 50


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Shorten valid simulate windows; out-of-range ones stay as generated, to be refused."""
    body = case.body
    if case.operation.path != "/api/v1/simulate" or not isinstance(body, dict):
        return
    wait = body.get("wait_ms")
    if type(wait) is int and SIMULATE_WAIT_MS < wait <= 30_000:
        body["wait_ms"] = SIMULATE_WAIT_MS
