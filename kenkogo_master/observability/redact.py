"""Keep secrets out of log records: known shapes and the configured secrets are masked.

The code does not log secrets in the first place; this is the net under it, for a secret that
reaches a record through an exception's text, a library, or a header dumped while debugging.
Every record is masked once, when it is made (see logs.py); the same filter also sits on the
root logger and on each of the Master's handlers, and passes a masked record straight on.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable

MASK = "***"
# A configured secret shorter than this is not masked by value: it would mask ordinary words.
MIN_SECRET = 6
_MARK = "kenkogo_redacted"

_SECRET_KEY = (
    r"(?:[a-z]+[_-])*(?:token|password|passwd|pwd|secret|api[_-]?key|session(?:[_-]?id)?|"
    r"kenkogo_session|csrf)"
)
# A value: quoted (to its closing quote, spaces and all) or bare (to a separator). Its opening
# quote is group 2.
_VALUE = r"""(["']?)(?:(?<=")[^"]*|(?<=')[^']*|[^\s"'&,;)}\]]+)"""
# Order matters: the wider shapes first, so that the narrower ones do not cut them in two.
_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    # `"auth": {...}` payloads, whatever they hold.
    (re.compile(r"""(?i)(["']?\bauth["']?\s*[:=]\s*)\{[^{}]*\}"""), r"\1{" + MASK + "}"),
    # Authorization and Cookie headers: the whole value, up to the end of the line or quote.
    (
        re.compile(
            r"""(?i)(\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?)"""
            r"""(?:(?:bearer|basic|digest)\s+)?[^"'\r\n,}]+"""
        ),
        r"\1" + MASK,
    ),
    (
        re.compile(r"""(?i)(\b(?:set-)?cookie["']?\s*[:=]\s*["']?)[^"'\r\n}]+"""),
        r"\1" + MASK,
    ),
    # A bearer or basic credential anywhere (not a plain word: "bearer tokens" is prose).
    (
        re.compile(r"(?i)\b(bearer|basic)(\s+)(?=[A-Za-z]*[^A-Za-z\s])[A-Za-z0-9\-._~+/]{6,}=*"),
        r"\1\2" + MASK,
    ),
    # "key": "value" and 'key': 'value' (JSON, reprs) for secret-looking keys and `auth`.
    (
        re.compile(rf"""(?i)(["'](?:{_SECRET_KEY}|auth)["']\s*:\s*)(?!\{{){_VALUE}"""),
        r"\1\2" + MASK,
    ),
    # key=value (query strings, settings, log fields); a colon in prose is left alone.
    (re.compile(rf"""(?i)(\b(?:{_SECRET_KEY}|auth)\s*=\s*){_VALUE}"""), r"\1\2" + MASK),
    # The password in a URL: scheme://user:password@host.
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+(@)"), r"\1" + MASK + r"\2"),
)


class Redactor(logging.Filter):
    """Mask secrets in a record's message, exception and stack text; never drops a record."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: Counter[str] = Counter()
        self._by_value: re.Pattern[str] | None = None

    def add_secrets(self, values: Iterable[str | None]) -> None:
        """Mask these values wherever they appear (each add is undone by one `remove_secrets`)."""
        with self._lock:
            self._secrets.update(value for value in values if value and len(value) >= MIN_SECRET)
            self._compile()

    def remove_secrets(self, values: Iterable[str | None]) -> None:
        """Stop masking values added once more than removed."""
        with self._lock:
            self._secrets.subtract(value for value in values if value and len(value) >= MIN_SECRET)
            self._secrets = +self._secrets  # drops the counts that reached zero
            self._compile()

    def _compile(self) -> None:
        # Longest first, so that a secret containing another is masked whole.
        values = sorted(self._secrets, key=len, reverse=True)
        self._by_value = re.compile("|".join(map(re.escape, values))) if values else None

    def mask(self, text: str) -> str:
        """Return `text` with every known secret and secret shape masked."""
        by_value = self._by_value
        if by_value is not None:
            text = by_value.sub(MASK, text)
        for pattern, replacement in _SHAPES:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place, once; let it through."""
        if record.__dict__.get(_MARK):
            return True
        record.__dict__[_MARK] = True
        try:
            message = record.getMessage()
        except Exception:
            return True  # a broken format string: the handler reports it as usual
        masked = self.mask(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True
