"""Hooks of the schemathesis run over the REST API, loaded through SCHEMATHESIS_HOOKS."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import schemathesis

# A simulated conversation waits out its whole window (up to 30 s): keep the run's short.
SIMULATE_WAIT_MS = 50
# A OneBot bot the run adds is dialed at once: it must never be anywhere but this machine
# (the discard port, closed here: refused at once).
LOOPBACK_BOT = "ws://127.0.0.1:9/onebot/v11/ws"


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Shorten valid simulate windows; out-of-range ones stay as generated, to be refused."""
    body = case.body
    if case.operation.path == "/api/v1/onebot-apps" and isinstance(body, dict):
        url = body.get("url")
        if isinstance(url, str) and _dialable(url):
            body["url"] = LOOPBACK_BOT
        return
    if case.operation.path != "/api/v1/simulate" or not isinstance(body, dict):
        return
    wait = body.get("wait_ms")
    if type(wait) is int and SIMULATE_WAIT_MS < wait <= 30_000:
        body["wait_ms"] = SIMULATE_WAIT_MS


def _dialable(url: str) -> bool:
    """Tell whether the Master could take `url` as a bot to dial (the check settings.py makes)."""
    try:
        parts = urlsplit(url)
        return parts.scheme in ("ws", "wss") or bool(parts.hostname)
    except ValueError:
        return True  # not worth the risk: it goes to loopback too
