"""What the file area's operations answer and refuse: entries, totals and error codes.

Nothing here touches a disk; the sandbox hands in what `lstat` and the OS said.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from enum import StrEnum

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.files.paths import Parts, is_within, join


class Kind(StrEnum):
    """What a name in the file area is."""

    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"  # listed and removable, never followed
    OTHER = "other"  # a device, FIFO or socket: listed, never opened


def kind_of(mode: int) -> Kind:
    """Return the kind of an `lstat` mode."""
    if stat.S_ISREG(mode):
        return Kind.FILE
    if stat.S_ISDIR(mode):
        return Kind.DIR
    if stat.S_ISLNK(mode):
        return Kind.SYMLINK
    return Kind.OTHER


@dataclass(frozen=True, slots=True)
class Entry:
    """One name in the file area, as `lstat` saw it."""

    name: str
    path: str
    kind: Kind
    size: int
    modified_ns: int
    mode: int  # permission bits
    target: str | None = None  # what a symbolic link points at, as text


@dataclass(frozen=True, slots=True)
class Usage:
    """A folder's total, possibly cut short by the time or entry budget."""

    path: str
    size: int
    files: int
    folders: int
    others: int
    complete: bool
    elapsed_s: float


@dataclass(frozen=True, slots=True)
class Copied:
    """What a copy made."""

    entry: Entry
    files: int
    folders: int
    size: int
    skipped: int  # symbolic links and special files, which a copy never follows or opens


def make_entry(parts: Parts, info: os.stat_result, target: str | None = None) -> Entry:
    return Entry(
        name=parts[-1] if parts else "",
        path=join(parts),
        kind=kind_of(info.st_mode),
        size=info.st_size,
        modified_ns=info.st_mtime_ns,
        mode=stat.S_IMODE(info.st_mode),
        target=target,
    )


def fs_error(exc: OSError, parts: Parts) -> HubError:
    """Translate a refusal of the OS into the API's code for it."""
    path = join(parts)
    code = exc.errno
    if code == errno.ENOENT:
        return HubError(ErrorCode.NOT_FOUND, what="file", id=path)
    if code == errno.EEXIST:
        return HubError(ErrorCode.ALREADY_EXISTS, path=path)
    if code == errno.ENOTEMPTY:
        return HubError(ErrorCode.FOLDER_NOT_EMPTY, path=path)
    if code == errno.ENOTDIR:
        return HubError(ErrorCode.NOT_A_FOLDER, path=path)
    if code == errno.EISDIR:
        return HubError(ErrorCode.NOT_A_FILE, path=path)
    if code == errno.ELOOP:
        return HubError(ErrorCode.PATH_OUTSIDE_ROOT, path=path, reason="a symbolic link")
    if code == errno.ENAMETOOLONG:
        return HubError(ErrorCode.INVALID_PATH, path=path, detail="too long for the file system")
    if code in (errno.ENOSPC, errno.EDQUOT):
        return HubError(ErrorCode.NO_SPACE)
    return HubError(ErrorCode.FILE_ERROR, path=path, detail=exc.strerror or str(exc))


def refuse_kind(parts: Parts, info: os.stat_result, want: Kind) -> None:
    """Refuse a name that is not of the kind an operation works on."""
    kind = kind_of(info.st_mode)
    if kind is want:
        return
    path = join(parts)
    if kind is Kind.SYMLINK:
        raise HubError(ErrorCode.PATH_OUTSIDE_ROOT, path=path, reason="a symbolic link")
    if kind is Kind.OTHER:
        raise HubError(ErrorCode.SPECIAL_FILE, path=path)
    if want is Kind.DIR:
        raise HubError(ErrorCode.NOT_A_FOLDER, path=path)
    raise HubError(ErrorCode.NOT_A_FILE, path=path)


def check_target(parts: Parts, existing: os.stat_result | None, overwrite: bool) -> None:
    """Refuse a target that exists, unless overwriting a plain file or folder."""
    if existing is None:
        return
    if not overwrite:
        raise HubError(ErrorCode.ALREADY_EXISTS, path=join(parts))
    kind = kind_of(existing.st_mode)
    if kind not in (Kind.FILE, Kind.DIR):
        refuse_kind(parts, existing, Kind.FILE)


def refuse_nesting(source: Parts, target: Parts) -> None:
    """Refuse the root as either end, and a folder moved or copied into itself."""
    if not source or not target:
        raise HubError(ErrorCode.INVALID_PATH, path="", detail="the root itself")
    if is_within(target, source) and target != source:
        raise HubError(ErrorCode.INVALID_PATH, path=join(target), detail="inside the source")


def version_of(data: bytes) -> str:
    """Return the editor's version of a text: a hash of its bytes, so equal texts agree."""
    return hashlib.sha256(data).hexdigest()[:32]
