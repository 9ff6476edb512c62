"""Identifiers: time-ordered, URL-safe, unguessable."""

from __future__ import annotations

import functools
import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
# Each random byte becomes one digit from its low five bits (256 is a multiple of 32, so every
# digit is equally likely): 16 bytes give the 80 random bits of a ULID in one C call.
_RANDOM_DIGITS = bytes(ord(_ALPHABET[byte % 32]) for byte in range(256))


@functools.lru_cache(maxsize=1)
def _time_digits(ms: int) -> str:
    """Return the 10 digits of a ULID's 48-bit time (the same for every id of one millisecond)."""
    digits = []
    for _ in range(10):
        ms, digit = divmod(ms, 32)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def new_id() -> str:
    """Return a 26-character id whose prefix sorts by creation time (a ULID in lower case)."""
    random_part = os.urandom(16).translate(_RANDOM_DIGITS).decode()
    return _time_digits(time.time_ns() // 1_000_000) + random_part


def now_ms() -> int:
    """Return the wall clock as epoch milliseconds."""
    return time.time_ns() // 1_000_000
