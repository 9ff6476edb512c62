"""Safe extraction of a package (zip or tar.gz) into an empty staging folder.

Nothing in an archive is trusted: names are checked before anything is written (no absolute
name, no `..`, no link, no device), entries are counted as they come, and sizes are counted
from the bytes really unpacked, never from headers, so that a bomb is refused before anything
past the limits reaches the disk. The caller removes the staging folder when this refuses.
"""

from __future__ import annotations

import gzip
import os
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Literal, Protocol, cast

from kenkogo_master.errors import ErrorCode, HubError

Format = Literal["zip", "tar.gz"]
CHUNK = 256 * 1024
RATIO_GRACE = 1024 * 1024  # a small package of text compresses well: the ratio counts past this
_MAX_NAME = 1024


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """How large a package may unpack."""

    max_entries: int = 10_000
    max_unpacked: int = 500 * 1024 * 1024
    max_ratio: float = 200.0


def detect(path: Path) -> Format:
    """Tell a zip from a tar.gz by its first bytes, whatever its name says."""
    with path.open("rb") as file:
        head = file.read(4)
    if head[:4] in {b"PK\x03\x04", b"PK\x05\x06"}:
        return "zip"
    if head[:2] == b"\x1f\x8b":
        return "tar.gz"
    raise HubError(ErrorCode.INVALID_ARCHIVE, detail="neither a zip nor a gzip-compressed tar")


def safe_parts(name: str) -> tuple[str, ...]:
    """Return an entry's path parts, or refuse a name that would leave the folder."""
    if "\0" in name or len(name) > _MAX_NAME:
        raise HubError(ErrorCode.ARCHIVE_UNSAFE_PATH, name=name[:200])
    unixy = name.replace("\\", "/")
    path = PurePosixPath(unixy)
    drive = len(unixy) > 1 and unixy[1] == ":"  # C:/… written on Windows
    if path.is_absolute() or drive or ".." in path.parts:
        raise HubError(ErrorCode.ARCHIVE_UNSAFE_PATH, name=name)
    parts = tuple(part for part in path.parts if part not in {"", "."})
    return parts


class _Budget:
    """The entries and bytes left; a refusal comes before the byte that would pass a limit."""

    def __init__(self, limits: ArchiveLimits, packed: int) -> None:
        self.limits = limits
        self.packed = max(packed, 1)
        self.entries = 0
        self.unpacked = 0

    def entry(self) -> None:
        self.entries += 1
        if self.entries > self.limits.max_entries:
            detail = f"more than {self.limits.max_entries} entries"
            raise HubError(ErrorCode.ARCHIVE_TOO_LARGE, detail=detail)

    def take(self, size: int) -> None:
        self.unpacked += size
        if self.unpacked > self.limits.max_unpacked:
            detail = f"more than {self.limits.max_unpacked} bytes unpacked"
            raise HubError(ErrorCode.ARCHIVE_TOO_LARGE, detail=detail)
        if self.unpacked > RATIO_GRACE and self.unpacked > self.limits.max_ratio * self.packed:
            detail = (
                f"more than {self.limits.max_ratio:g} bytes unpacked per packed byte "
                f"({self.packed} packed)"
            )
            raise HubError(ErrorCode.ARCHIVE_TOO_LARGE, detail=detail)


class _Writer:
    """Creates the entries under the staging folder, never following or replacing anything."""

    def __init__(self, root: Path, budget: _Budget) -> None:
        self.root = root
        self.budget = budget
        self.seen: set[tuple[str, ...]] = set()

    def _claim(self, name: str, parts: tuple[str, ...]) -> Path:
        if parts in self.seen:
            raise HubError(ErrorCode.INVALID_ARCHIVE, detail=f"{name} comes twice")
        self.seen.add(parts)
        return self.root.joinpath(*parts)

    def folder(self, name: str) -> None:
        parts = safe_parts(name)
        if parts:
            self._claim(name, parts).mkdir(parents=True, exist_ok=True)

    def file(self, name: str, source: IO[bytes], mode: int) -> None:
        parts = safe_parts(name)
        if not parts:
            raise HubError(ErrorCode.INVALID_ARCHIVE, detail=f"{name!r} names no file")
        target = self._claim(name, parts)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            descriptor = os.open(target, flags, 0o755 if mode & 0o111 else 0o644)
        except (FileExistsError, NotADirectoryError) as exc:
            raise HubError(ErrorCode.INVALID_ARCHIVE, detail=f"{name}: {exc.strerror}") from None
        with os.fdopen(descriptor, "wb") as out:
            while chunk := source.read(CHUNK):
                self.budget.take(len(chunk))  # before the write: nothing past the limit lands
                out.write(chunk)


def _extract_zip(source: Path, writer: _Writer) -> None:
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise HubError(ErrorCode.INVALID_ARCHIVE, detail=str(exc)) from None
    with archive:
        for info in archive.infolist():
            writer.budget.entry()
            name = info.filename
            safe_parts(name)
            mode = info.external_attr >> 16
            kind = stat.S_IFMT(mode)
            if kind == stat.S_IFLNK:
                raise HubError(ErrorCode.ARCHIVE_LINK, name=name)
            if kind not in {0, stat.S_IFREG, stat.S_IFDIR}:
                raise HubError(ErrorCode.ARCHIVE_SPECIAL_FILE, name=name)
            if info.is_dir():
                writer.folder(name)
                continue
            try:
                with archive.open(info) as member:
                    writer.file(name, member, mode)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                raise HubError(ErrorCode.INVALID_ARCHIVE, detail=f"{name}: {exc}") from None
            except RuntimeError as exc:  # encrypted
                raise HubError(ErrorCode.INVALID_ARCHIVE, detail=f"{name}: {exc}") from None


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Bounded:
    """A decompressed stream that refuses to give more than the budget allows, headers too."""

    def __init__(self, raw: _Readable, budget: _Budget) -> None:
        self.raw = raw
        self.budget = budget
        self.read_total = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(CHUNK if size < 0 else min(size, CHUNK))
        self.read_total += len(chunk)
        # Tar headers and padding count twice at most: bound them by the same limits.
        limits = self.budget.limits
        if self.read_total > 2 * limits.max_unpacked + 1024 * 1024 or (
            self.read_total > RATIO_GRACE
            and self.read_total > 2 * limits.max_ratio * self.budget.packed
        ):
            raise HubError(ErrorCode.ARCHIVE_TOO_LARGE, detail="the stream unpacks without end")
        return chunk


def _extract_tar(source: Path, writer: _Writer) -> None:
    try:
        with (
            gzip.open(source, "rb") as raw,
            tarfile.open(
                fileobj=cast(IO[bytes], _Bounded(raw, writer.budget)), mode="r|"
            ) as archive,
        ):
            for member in archive:
                writer.budget.entry()
                name = member.name
                safe_parts(name)
                if member.issym() or member.islnk():
                    raise HubError(ErrorCode.ARCHIVE_LINK, name=name)
                if member.isdir():
                    writer.folder(name)
                elif member.isreg():
                    extracted = archive.extractfile(member)
                    if extracted is None:  # pragma: no cover - a regular member always has one
                        raise HubError(ErrorCode.INVALID_ARCHIVE, detail=name)
                    writer.file(name, extracted, member.mode)
                else:
                    raise HubError(ErrorCode.ARCHIVE_SPECIAL_FILE, name=name)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise HubError(ErrorCode.INVALID_ARCHIVE, detail=str(exc) or type(exc).__name__) from None


def extract(source: Path, target: Path, limits: ArchiveLimits) -> Format:
    """Unpack `source` into the empty folder `target`; return the archive's format."""
    kind = detect(source)
    target.mkdir(parents=True, exist_ok=True)
    writer = _Writer(target, _Budget(limits, source.stat().st_size))
    if kind == "zip":
        _extract_zip(source, writer)
    else:
        _extract_tar(source, writer)
    return kind
