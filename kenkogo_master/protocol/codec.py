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


class TooDeep(ValueError):
    """JSON nested deeper than the decoder goes: well-formed, but no valid payload looks so."""


def loads(text: str | bytes, **_: Any) -> Any:
    """Parse JSON text; raises ValueError on bad input (TooDeep past the decoder's depth)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            raise TooDeep(f"nested deeper than JSON decoders go ({exc})") from None
        raise


# Segments nest this deep at most (a forwarded message inside another is a few levels); deeper
# payloads are refused at every edge, before a JSON encoder (orjson stops at 254) fails on them.
MAX_NESTING = 32


def deeper_than(value: Any, limit: int = MAX_NESTING) -> bool:
    """Tell whether lists and objects nest more than `limit` levels deep in `value`."""
    level: list[Any] = [value]
    for _ in range(limit + 1):
        nested: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                nested.extend(item.values())
            elif isinstance(item, list | tuple):
                nested.extend(item)
        if not nested:
            return False
        level = nested
    return True
