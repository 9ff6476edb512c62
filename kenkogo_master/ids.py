"""Identifiers: time-ordered, URL-safe, unguessable."""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def new_id() -> str:
    """Return a 26-character id whose prefix sorts by creation time (a ULID in lower case)."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def now_ms() -> int:
    """Return the wall clock as epoch milliseconds."""
    return time.time_ns() // 1_000_000
