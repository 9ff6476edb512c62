"""One fast JSON codec for every wire: Socket.IO, the plain WebSocket and REST."""

from __future__ import annotations

from typing import Any

import orjson


def dumps(obj: Any, **_: Any) -> str:
    """Serialize to a JSON string (keyword options of the json module are accepted and ignored)."""
    return orjson.dumps(obj).decode()


def dumpb(obj: Any) -> bytes:
    """Serialize to JSON bytes."""
    return orjson.dumps(obj)


def loads(text: str | bytes, **_: Any) -> Any:
    """Parse JSON text; raises ValueError on bad input."""
    return orjson.loads(text)
