"""OneBot v11 message formats: CQ-code strings, segment arrays and their plain text."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

# pydantic validates TypedDicts only from typing_extensions before Python 3.12.
from typing_extensions import TypedDict

from kenkogo_master.protocol.codec import MAX_NESTING, deeper_than

# Segment types are short identifiers ("at", "image", "mface"); anything else is not a CQ code.
_TYPE_RE = re.compile(r"[\w.\-]+")
_TEXT_ESCAPES = {"&amp;": "&", "&#91;": "[", "&#93;": "]"}
_PARAM_ESCAPES = {**_TEXT_ESCAPES, "&#44;": ","}
# One pass each way, so "&amp;#91;" stays "&#91;" instead of becoming "[".
_TEXT_UNESCAPE_RE = re.compile("|".join(map(re.escape, _TEXT_ESCAPES)))
_PARAM_UNESCAPE_RE = re.compile("|".join(map(re.escape, _PARAM_ESCAPES)))
_TEXT_ESCAPE_TABLE = str.maketrans({"&": "&amp;", "[": "&#91;", "]": "&#93;"})
_PARAM_ESCAPE_TABLE = str.maketrans({"&": "&amp;", "[": "&#91;", "]": "&#93;", ",": "&#44;"})
_CQ_OPEN = "[CQ:"


class Segment(TypedDict):
    """One message segment: a type and its string parameters."""

    type: str
    data: dict[str, str]


def escape_text(text: str) -> str:
    """Escape plain text for a CQ-code string (& [ ])."""
    return text.translate(_TEXT_ESCAPE_TABLE)


def escape_param(value: str) -> str:
    """Escape a CQ-code parameter value (& [ ] and the comma)."""
    return value.translate(_PARAM_ESCAPE_TABLE)


def unescape_text(text: str) -> str:
    """Undo the escaping of plain text in a CQ-code string."""
    return _TEXT_UNESCAPE_RE.sub(lambda m: _TEXT_ESCAPES[m.group()], text)


def unescape_param(value: str) -> str:
    """Undo the escaping of a CQ-code parameter value."""
    return _PARAM_UNESCAPE_RE.sub(lambda m: _PARAM_ESCAPES[m.group()], value)


def text_segment(text: str) -> Segment:
    """Build a text segment."""
    return {"type": "text", "data": {"text": text}}


def parse(message: str) -> list[Segment]:
    """Split a CQ-code string into segments; malformed codes are kept as text."""
    segments: list[Segment] = []
    pending: list[str] = []  # unescaped text not yet emitted, so adjacent text merges

    def flush() -> None:
        text = "".join(pending)
        pending.clear()
        if text:
            segments.append(text_segment(text))

    pos = 0
    while pos < len(message):
        start = message.find(_CQ_OPEN, pos)
        if start < 0:
            pending.append(unescape_text(message[pos:]))
            break
        pending.append(unescape_text(message[pos:start]))
        end = message.find("]", start)
        if end < 0:  # unterminated: nothing after it can close a code either
            pending.append(unescape_text(message[start:]))
            break
        inner = message.find("[", start + 1, end)
        if inner >= 0:  # a raw '[' cannot sit inside a code, so this opener is text
            pending.append(unescape_text(message[start:inner]))
            pos = inner
            continue
        code = _parse_code(message[start + len(_CQ_OPEN) : end])
        if code is None:
            pending.append(unescape_text(message[start : end + 1]))
        elif code["type"] == "text":
            pending.append(code["data"].get("text", ""))
        else:
            flush()
            segments.append(code)
        pos = end + 1
    flush()
    return segments


def _parse_code(body: str) -> Segment | None:
    """Parse what lies between "[CQ:" and "]", or return None when it is not a valid code."""
    name, _, params = body.partition(",")
    if not _TYPE_RE.fullmatch(name):
        return None
    data: dict[str, str] = {}
    for part in params.split(","):
        if not part:  # tolerate a trailing or doubled comma
            continue
        key, eq, value = part.partition("=")
        if not eq or not key:
            return None
        data[key] = unescape_param(value)
    return {"type": name, "data": data}


def to_cq_string(segments: Iterable[Mapping[str, Any]]) -> str:
    """Render segments as a CQ-code string; raises ValueError for what cannot be written."""
    out: list[str] = []
    for segment in normalize_segments(segments):
        data = segment["data"]
        if segment["type"] == "text":
            out.append(escape_text(data.get("text", "")))
            continue
        out.append(_CQ_OPEN + segment["type"])
        for key, value in data.items():
            if not key or any(c in key for c in ",=[]"):
                raise ValueError(f"segment parameter name {key!r} cannot be written as a CQ code")
            out.append(f",{key}={escape_param(value)}")
        out.append("]")
    return "".join(out)


def plain_text(segments: Iterable[Mapping[str, Any]]) -> str:
    """Concatenate the text of the text segments."""
    parts: list[str] = []
    for segment in segments:
        data = segment.get("data")
        if segment.get("type") == "text" and isinstance(data, Mapping):
            text = data.get("text")
            if isinstance(text, str):
                parts.append(text)
    return "".join(parts)


def normalize_segments(items: object) -> list[Segment]:
    """Check an array-format message and turn every parameter value into a string."""
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Iterable):
        raise ValueError(f"a segment array must be a list, not {json_type(items)}")
    return [normalize_segment(item, index) for index, item in enumerate(items)]


def normalize_segment(item: object, index: int = 0) -> Segment:
    """Check one segment object and turn its parameter values into strings."""
    if not isinstance(item, Mapping):
        raise ValueError(f"segment {index} must be an object, not {json_type(item)}")
    kind = item.get("type")
    if not isinstance(kind, str) or not _TYPE_RE.fullmatch(kind):
        raise ValueError(f"segment {index} needs a 'type' that is a short name, got {kind!r}")
    raw = item.get("data")
    if raw is None:  # some implementations send "data": null for segments without parameters
        raw = {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"segment {index} 'data' must be an object, not {json_type(raw)}")
    data: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            raise ValueError(f"segment {index} has a parameter name that is not a string")
        if value is not None:  # null means "not given"
            data[key] = _as_string(value)
    if kind == "text":
        data.setdefault("text", "")
    return {"type": kind, "data": data}


def _as_string(value: object) -> str:
    """Represent a JSON parameter value as the string a CQ code would carry."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    # Nested values (forward nodes, raw face data) keep their JSON so nothing is lost.
    if deeper_than(value):
        raise ValueError(f"nested deeper than {MAX_NESTING} levels")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def json_type(value: object) -> str:
    """Name the JSON type of a decoded value, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__
