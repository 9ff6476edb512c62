"""Failed logins per account name and per address: a growing delay, then a refusal for a while.

An attempt counts as failed from the moment it starts and is forgiven when it succeeds, so
that attempts sent at once are staggered and counted like attempts sent one after another.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from kenkogo_master.settings import AdminSettings

# Keys remembered at most: a spray of made-up names cannot grow memory without bound.
MAX_KEYS = 10_000


@dataclass(slots=True)
class _Record:
    failures: int = 0
    last_at: float = 0.0
    locked_until: float = 0.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an attempt must do: wait `delay` seconds first, or be refused for `retry_after`."""

    delay: float = 0.0
    retry_after: int = 0  # seconds; non-zero means refused

    @property
    def refused(self) -> bool:
        """Tell whether the attempt is refused outright."""
        return self.retry_after > 0


class LoginThrottle:
    """Count failed logins per account name and per client address, in memory."""

    def __init__(
        self, settings: AdminSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def _record(self, key: str, now: float) -> _Record:
        record = self._records.get(key)
        if record is None:
            record = self._records[key] = _Record()
            while len(self._records) > MAX_KEYS:
                self._records.popitem(last=False)
        else:
            self._records.move_to_end(key)
        if record.locked_until and now >= record.locked_until:
            record.failures, record.locked_until = 0, 0.0
        elif record.failures and now - record.last_at > self._settings.login_window:
            record.failures = 0
        return record

    def begin(self, name: str, address: str) -> Verdict:
        """Count an attempt as failed; return how long it must wait first, or a refusal."""
        settings = self._settings
        now = self._clock()
        records = [self._record(f"name:{name}", now), self._record(f"address:{address}", now)]
        locked = max((record.locked_until - now for record in records), default=0.0)
        if locked > 0:
            return Verdict(retry_after=max(1, math.ceil(locked)))
        delay = 0.0
        for record in records:
            record.failures += 1
            record.last_at = now
            if record.failures > settings.login_max_attempts:
                record.locked_until = now + settings.lockout
                locked = max(locked, settings.lockout)
            extra = record.failures - settings.login_free_attempts - 1
            if extra >= 0:
                delay = max(delay, settings.login_delay * 2 ** min(extra, 30))
        if locked > 0:
            return Verdict(retry_after=max(1, math.ceil(locked)))
        return Verdict(delay=min(delay, settings.login_max_delay))

    def succeeded(self, name: str, address: str) -> None:
        """Forgive the attempt that succeeded: its account starts afresh, its address loses one."""
        now = self._clock()
        self._record(f"name:{name}", now).failures = 0
        by_address = self._record(f"address:{address}", now)
        by_address.failures = max(0, by_address.failures - 1)
