"""Paths of the file area as the API takes them: checked as text, before anything touches a disk.

A path is relative to the file area's root, its parts separated by `/`; the root itself is the
empty path. Whatever could name something outside the root, or something other than what it
looks like, is refused here: the sandbox then walks the parts one folder at a time.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from kenkogo_master.errors import ErrorCode, HubError

MAX_NAME_BYTES = 255  # NAME_MAX of the common file systems
MAX_PATH_BYTES = 4096  # PATH_MAX on Linux, for the whole path inside the root
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")
# Decoding rounds looked through for a hidden `..`, `/` or `\\`; three covers triple encoding.
_DECODE_ROUNDS = 3

Parts = tuple[str, ...]


def _outside(path: str, reason: str) -> HubError:
    return HubError(ErrorCode.PATH_OUTSIDE_ROOT, path=path, reason=reason)


def _invalid(path: str, detail: str) -> HubError:
    return HubError(ErrorCode.INVALID_PATH, path=path, detail=detail)


def _check_decoded(path: str, name: str) -> None:
    """Refuse a name whose percent-decoding, once or more, hides a way out or a control byte.

    The query string was decoded once already; a `%2e%2e` left in a name means a client (or an
    attacker) encoded twice, and some layer may one day decode again. A name like `100%.txt`
    or `a%20b` decodes to nothing dangerous and is kept as it is.
    """
    text = name
    for _ in range(_DECODE_ROUNDS):
        if not _ENCODED.search(text):
            return
        try:
            text = unquote(text, errors="strict")
        except UnicodeDecodeError:
            raise _invalid(path, "a percent-encoded sequence that is not UTF-8") from None
        if "/" in text or "\\" in text or text in {".", ".."} or text.startswith("~"):
            raise _outside(path, "an encoded path separator or parent folder")
        if _CONTROL.search(text):
            raise _invalid(path, "an encoded control character")


def parse(path: str) -> Parts:
    """Return the parts of a path inside the root; raise HubError for anything else."""
    if "\x00" in path:
        raise _invalid(path, "a NUL byte")
    if "\\" in path:
        raise _outside(path, "a backslash")
    if path.startswith("/"):
        raise _outside(path, "an absolute path")
    if path.startswith("~"):
        raise _outside(path, "a home folder")
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError:
        raise _invalid(path, "not valid Unicode") from None
    if size > MAX_PATH_BYTES:
        raise _invalid(path, f"longer than {MAX_PATH_BYTES} bytes")
    if path == "":
        return ()
    parts = tuple(path.split("/"))
    for name in parts:
        if name in {".", ".."}:
            raise _outside(path, "a . or .. segment")
        if name == "":
            raise _invalid(path, "an empty segment")
        if name.startswith("~"):
            raise _outside(path, "a home folder")
        if _CONTROL.search(name):
            raise _invalid(path, "a control character")
        if len(name.encode("utf-8")) > MAX_NAME_BYTES:
            raise _invalid(path, f"a name longer than {MAX_NAME_BYTES} bytes")
        _check_decoded(path, name)
    return parts


def parse_name(path: str, name: str) -> str:
    """Return `name` if it is one plain name (an uploaded file's); raise HubError otherwise."""
    if "/" in name:
        raise _outside(path, "a path separator in a file name")
    parts = parse(name)
    if len(parts) != 1:
        raise _invalid(path, "an empty file name")
    return parts[0]


def join(parts: Parts) -> str:
    """Return the API's spelling of a path: its parts joined by `/`, the root empty."""
    return "/".join(parts)


def is_within(inner: Parts, outer: Parts) -> bool:
    """Return whether `inner` is `outer` or lies below it."""
    return inner[: len(outer)] == outer
