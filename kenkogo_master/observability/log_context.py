"""What a log record is about: app, driver, message, trace and remote address, as fields.

Code that knows them for a whole connection or request binds them once (a context variable,
so every record logged further down that task carries them); a single call passes them as
`extra={"app_id": ...}`. Nothing here runs per message unless a record is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import MappingProxyType
from typing import Any

# The context fields a record may carry, in the order records show them.
FIELDS = ("app_id", "driver_id", "message_id", "trace_id", "remote")
# Where the factory keeps the bound context on a record (`extra` keys stay free for callers).
RECORD_ATTRIBUTE = "kenkogo_context"

_EMPTY: Mapping[str, str] = MappingProxyType({})
_bound: ContextVar[Mapping[str, str]] = ContextVar("kenkogo_log_context", default=_EMPTY)


def bind(**fields: object) -> Token[Mapping[str, str]]:
    """Add fields to the current task's context (None leaves a field out); return the undo."""
    merged = dict(_bound.get())
    for name, value in fields.items():
        if name not in FIELDS:
            raise ValueError(f"{name!r} is not a log context field")
        if value is not None:
            merged[name] = str(value)
    return _bound.set(MappingProxyType(merged))


def unbind(token: Token[Mapping[str, str]]) -> None:
    """Undo a `bind`."""
    _bound.reset(token)


@contextmanager
def bound(**fields: object) -> Iterator[None]:
    """Bind fields for the length of a block."""
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


def current() -> Mapping[str, str]:
    """Return the fields bound in the current task."""
    return _bound.get()


def record_context(record: logging.LogRecord) -> dict[str, str]:
    """Return a record's context fields: those bound when it was made, then its `extra`."""
    bound_then: Mapping[str, str] = getattr(record, RECORD_ATTRIBUTE, _EMPTY)
    fields = dict(bound_then)
    for name in FIELDS:
        value: Any = record.__dict__.get(name)
        if value is not None:
            fields[name] = str(value)
    return fields
