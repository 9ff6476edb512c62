"""Identifiers: time-ordered, URL-safe, unguessable."""

from __future__ import annotations

import functools
import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
# Two digits at a time: ten bits of a number to their two characters.
_PAIRS = tuple(a + b for a in _ALPHABET for b in _ALPHABET)
_RANDOM_BITS = 80
_RANDOM_LIMIT = 1 << _RANDOM_BITS
# Within one millisecond the random part grows by 1 to 2**40 at each id: still unguessable from
# the id before it, and room for about a million ids in a millisecond before it runs over.
_STEP_BYTES = 5


@functools.lru_cache(maxsize=1)
def _time_digits(ms: int) -> str:
    """Return the 10 digits of a ULID's 48-bit time (the same for every id of one millisecond)."""
    digits = []
    for _ in range(10):
        ms, digit = divmod(ms, 32)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def _random_digits(value: int) -> str:
    """Return the 16 digits of an 80-bit number."""
    pairs = _PAIRS
    return (
        pairs[value >> 70]
        + pairs[(value >> 60) & 1023]
        + pairs[(value >> 50) & 1023]
        + pairs[(value >> 40) & 1023]
        + pairs[(value >> 30) & 1023]
        + pairs[(value >> 20) & 1023]
        + pairs[(value >> 10) & 1023]
        + pairs[value & 1023]
    )


class IdSource:
    """Make ULIDs that also sort in the order they were made within one millisecond."""

    __slots__ = ("_last_ms", "_last_random")

    def __init__(self) -> None:
        self._last_ms = -1
        self._last_random = 0

    def __call__(self) -> str:
        """Return the next id."""
        # A clock set back does not take the ids back with it.
        ms = max(time.time_ns() // 1_000_000, self._last_ms)
        if ms == self._last_ms:
            value = self._last_random + 1 + int.from_bytes(os.urandom(_STEP_BYTES), "big")
            if value >= _RANDOM_LIMIT:  # ran over: borrow the next millisecond
                ms += 1
                value = self._fresh()
        else:
            value = self._fresh()
        self._last_ms = ms
        self._last_random = value
        return _time_digits(ms) + _random_digits(value)

    @staticmethod
    def _fresh() -> int:
        """Return a millisecond's first random part: in the lower half, so later ones can grow."""
        return int.from_bytes(os.urandom(10), "big") >> 1


new_id = IdSource()


def now_ms() -> int:
    """Return the wall clock as epoch milliseconds."""
    return time.time_ns() // 1_000_000
