"""A strict syntax check of .po text, so a broken catalog is reported with its line.

babel's reader forgives a lot (an unquoted msgstr silently becomes empty) and numbers lines
loosely, so the file is checked here first and the first problem raised with its line number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

# A C string as gettext writes it: quotes around anything but bare quotes and lone backslashes.
_STRING = r'"(?:[^"\\]|\\.)*"'
_LINE = re.compile(
    rf"(?P<keyword>msgctxt|msgid_plural|msgid|msgstr(?:\[(?P<index>\d+)\])?)\s*(?P<string>{_STRING})"
    rf"|(?P<continuation>{_STRING})"
)
_NPLURALS = re.compile(r"nplurals\s*=\s*(\d+)")

# The keywords allowed after each one within and between entries ("" is between entries).
_NEXT = {
    "": {"msgctxt", "msgid"},
    "msgctxt": {"msgid"},
    "msgid": {"msgid_plural", "msgstr"},
    "msgid_plural": {"msgstr[]"},
    "msgstr": {"msgctxt", "msgid"},
    "msgstr[]": {"msgstr[]", "msgctxt", "msgid"},
}
_UNFINISHED = frozenset({"msgctxt", "msgid", "msgid_plural"})


class PoSyntaxError(ValueError):
    """A .po text is malformed at a given line."""

    def __init__(self, lineno: int, reason: str) -> None:
        super().__init__(f"line {lineno}: {reason}")
        self.lineno = lineno
        self.reason = reason


@dataclass
class _Entry:
    """One message as written: where it starts, its id and its translations."""

    lineno: int
    context: str = ""
    msgid: str = ""
    strings: list[str] = field(default_factory=list)
    plural_lines: list[int] = field(default_factory=list)


def _entries(text: str) -> Iterator[_Entry]:
    """Yield the entries of a .po text, raising PoSyntaxError where the grammar breaks."""
    last = ""
    entry: _Entry | None = None
    target: str | None = None  # which part a continuation string extends; None between entries
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            if last in _UNFINISHED and entry is not None:
                raise PoSyntaxError(entry.lineno, "entry has no msgstr")
            target = None
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise PoSyntaxError(lineno, f"cannot parse {line[:60]!r}")
        continuation = match.group("continuation")
        if continuation is not None:
            if entry is None or target is None:
                raise PoSyntaxError(lineno, "string outside an entry")
            if target == "msgid":
                entry.msgid += continuation[1:-1]
            elif target == "msgctxt":
                entry.context += continuation[1:-1]
            elif target == "msgstr":
                entry.strings[-1] += continuation[1:-1]
            continue
        keyword = match.group("keyword")
        kind = "msgstr[]" if match.group("index") is not None else keyword
        if kind not in _NEXT[last]:
            raise PoSyntaxError(lineno, f"unexpected {keyword} after {last or 'nothing'}")
        string = match.group("string")[1:-1]
        if kind in ("msgctxt", "msgid") and last not in ("msgctxt",):
            if entry is not None:
                yield entry
            entry = _Entry(lineno)
        assert entry is not None  # the grammar above starts every entry with msgctxt or msgid
        if kind == "msgctxt":
            entry.context, target = string, "msgctxt"
        elif kind == "msgid":
            entry.msgid, target = string, "msgid"
        elif kind == "msgid_plural":
            target = kind
        else:
            if kind == "msgstr[]" and int(match.group("index")) != len(entry.strings):
                raise PoSyntaxError(lineno, f"{keyword} out of order")
            if kind == "msgstr[]":
                entry.plural_lines.append(lineno)
            entry.strings.append(string)
            target = "msgstr"
        last = kind
    if last in _UNFINISHED and entry is not None:
        raise PoSyntaxError(entry.lineno, "entry has no msgstr")
    if entry is not None:
        yield entry


def check_po(text: str) -> None:
    """Raise PoSyntaxError for the first malformed line, duplicate id or excess plural form."""
    seen: dict[tuple[str, str], int] = {}
    nplurals: int | None = None
    for entry in _entries(text):
        if not entry.msgid and not entry.context and not seen:
            found = _NPLURALS.search("".join(entry.strings))
            nplurals = int(found.group(1)) if found else None
        key = (entry.context, entry.msgid)
        if key in seen:
            raise PoSyntaxError(
                entry.lineno, f"duplicate msgid {entry.msgid!r} (first on line {seen[key]})"
            )
        seen[key] = entry.lineno
        if nplurals is not None and len(entry.plural_lines) > nplurals:
            raise PoSyntaxError(
                entry.plural_lines[nplurals],
                f"more plural forms than the nplurals={nplurals} of the catalog",
            )
