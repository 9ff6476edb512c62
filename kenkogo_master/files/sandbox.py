"""The file area: the one place that resolves paths against the root and touches files there.

Paths are never joined into strings and handed to the OS. Each operation walks from a descriptor
of the root one folder at a time (`openat` with O_NOFOLLOW | O_DIRECTORY), and acts on the last
name relative to its folder's descriptor. A symbolic link met on the way is refused, even one
swapped in after a check, because the open that follows the check does not follow links; a
device, FIFO or socket is never opened. Every method blocks: callers run them in a thread.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.files.entries import (
    Copied,
    Entry,
    Kind,
    Usage,
    check_target,
    fs_error,
    kind_of,
    make_entry,
    refuse_kind,
    refuse_nesting,
)
from kenkogo_master.files.paths import Parts, join

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
_DIR_FLAGS = os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC
# O_NONBLOCK: a FIFO swapped in after the check must not hang the open.
_READ_FLAGS = os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC | _O_NONBLOCK | _O_NOCTTY
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC
_WRITE_FLAGS = os.O_WRONLY | _O_NOFOLLOW | _O_CLOEXEC | _O_NONBLOCK | _O_NOCTTY
_NEEDS_DIR_FD = (os.open, os.stat, os.mkdir, os.rename, os.unlink, os.rmdir, os.link)

# Uploads and copies are written under this hidden prefix, next to their target, and renamed
# into place only when complete: a crash leaves one clearly named file, never a half target.
TEMP_PREFIX = ".kenkogo-upload-"
COPY_CHUNK = 1024 * 1024
# Folders walked below one folder at most: each level holds descriptors while it is read.
MAX_DEPTH = 64
_RENAME_NOREPLACE = 1


P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S")


def translated(
    method: Callable[Concatenate[S, Parts, P], T],
) -> Callable[Concatenate[S, Parts, P], T]:
    """Answer any refusal of the OS that a method did not expect with the API's code for it."""

    @functools.wraps(method)
    def wrapper(self: S, parts: Parts, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, parts, *args, **kwargs)
        except OSError as exc:
            raise fs_error(exc, parts) from None

    return wrapper


def supported() -> bool:
    """Return whether this system can walk paths safely (POSIX `*at` calls with O_NOFOLLOW)."""
    return bool(_O_NOFOLLOW and _O_DIRECTORY) and all(
        call in os.supports_dir_fd for call in _NEEDS_DIR_FD
    )


def _lstat(name: str, dir_fd: int) -> os.stat_result | None:
    """Return a name's own `lstat`, or None when nothing has that name."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _load_renameat2() -> Callable[[int, bytes, int, bytes, int], int] | None:
    """Return libc's renameat2, which refuses to replace atomically; None where it is missing."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.renameat2
    except (OSError, AttributeError, TypeError):  # no C library by that name, or no renameat2
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    call.restype = ctypes.c_int
    return call


_RENAMEAT2 = _load_renameat2()


def _rename_noreplace(src: str, src_fd: int, dst: str, dst_fd: int) -> None:
    """Rename without replacing: atomically where the kernel can, else check then rename."""
    if _RENAMEAT2 is not None:
        if _RENAMEAT2(src_fd, os.fsencode(src), dst_fd, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise OSError(code, os.strerror(code))
    # Without renameat2 (another kernel, a file system without it) a tiny window remains.
    if _lstat(dst, dst_fd) is not None:
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST))
    os.rename(src, dst, src_dir_fd=src_fd, dst_dir_fd=dst_fd)


def _place_file(temp: str, name: str, dir_fd: int, overwrite: bool) -> None:
    """Move a finished temporary file onto its name; without overwrite, never replace."""
    if overwrite:
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        return
    try:
        # A hard link fails if the name exists, atomically, on every POSIX file system with links.
        os.link(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise
        _rename_noreplace(temp, dir_fd, name, dir_fd)
        return
    os.unlink(temp, dir_fd=dir_fd)


def temp_name() -> str:
    """Return a fresh hidden name for a file or folder being written."""
    return f"{TEMP_PREFIX}{secrets.token_hex(8)}.part"


class OpenFile:
    """A regular file opened for reading; read by offset, so a stream can resume anywhere."""

    def __init__(self, fd: int, entry: Entry) -> None:
        self.fd = fd
        self.entry = entry

    def read(self, offset: int, size: int) -> bytes:
        """Return up to `size` bytes from `offset`."""
        return os.pread(self.fd, size, offset)

    def read_all(self, limit: int) -> bytes:
        """Return the whole file; raise when it has grown beyond `limit` since it was opened."""
        chunks: list[bytes] = []
        offset = 0
        while chunk := os.pread(self.fd, COPY_CHUNK, offset):
            offset += len(chunk)
            if offset > limit:
                raise HubError(ErrorCode.TOO_LARGE_TO_EDIT, size=offset, limit=limit)
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        """Close the descriptor."""
        os.close(self.fd)


def part_name(upload_id: str) -> str:
    """Return the hidden name of a resumable upload's part file (the id is hexadecimal)."""
    return f"{TEMP_PREFIX}{upload_id}.part"


def _open_part(temp: str, dir_fd: int, parts: Parts, offset: int) -> int:
    """Open a resumable upload's part file to write at `offset`, which must be where it ends."""
    try:
        fd = os.open(temp, _WRITE_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        raise HubError(ErrorCode.NOT_FOUND, what="upload", id=join(parts)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            refuse_kind(parts, info, Kind.FILE)
        if info.st_size != offset:
            raise HubError(ErrorCode.UPLOAD_OFFSET_MISMATCH, offset=info.st_size, asked=offset)
        os.lseek(fd, offset, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd


class Upload:
    """A file being written under a hidden temporary name next to its target.

    A plain upload makes a fresh temporary file and removes it unless committed. A resumable
    one names its part file (`temp`) and, with `offset`, reopens it there to add a chunk;
    `keep` then leaves the part file for the next chunk and `rewind` drops a chunk cut short.
    """

    def __init__(
        self,
        parts: Parts,
        dir_fd: int,
        overwrite: bool,
        existed: bool,
        temp: str | None = None,
        offset: int | None = None,
    ) -> None:
        self.parts = parts
        self.existed = existed  # whether the target existed when the upload began
        self.temp = temp or temp_name()
        self.size = offset or 0
        self.start = self.size  # where this request's bytes began
        self._dir_fd = dir_fd
        self._overwrite = overwrite
        self._fd: int | None = (
            os.open(self.temp, _CREATE_FLAGS, 0o644, dir_fd=dir_fd)
            if offset is None
            else _open_part(self.temp, dir_fd, parts, offset)
        )

    def write(self, data: bytes) -> None:
        """Append bytes to the temporary file."""
        if self._fd is None:
            raise RuntimeError("the upload is finished")
        try:
            _write_all(self._fd, data)
        except OSError as exc:  # a full disk, mostly
            raise fs_error(exc, self.parts) from None
        self.size += len(data)

    def commit(self) -> Entry:
        """Make the data durable and move it onto its name; return the new entry."""
        if self._fd is None:
            raise RuntimeError("the upload is finished")
        fd, self._fd = self._fd, None
        name = self.parts[-1]
        try:
            replaced = _lstat(name, self._dir_fd)
            if replaced is not None and stat.S_ISREG(replaced.st_mode):
                os.fchmod(fd, stat.S_IMODE(replaced.st_mode))  # an edited script stays runnable
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            info = _lstat(name, self._dir_fd)
            if info is not None:
                if not self._overwrite:
                    raise HubError(ErrorCode.ALREADY_EXISTS, path=join(self.parts))
                refuse_kind(self.parts, info, Kind.FILE)
            _place_file(self.temp, name, self._dir_fd, self._overwrite)
            placed = os.stat(name, dir_fd=self._dir_fd, follow_symlinks=False)
        except OSError as exc:
            raise fs_error(exc, self.parts) from None
        finally:
            self.discard()
        return make_entry(self.parts, placed)

    def keep(self) -> None:
        """Close the temporary file but leave it where it is (a resumable upload's chunk)."""
        self._release(remove=False)

    def rewind(self) -> None:
        """Cut the temporary file back to where this request began, then keep it."""
        if self._fd is not None:
            with suppress(OSError):  # the part file is checked again before the next chunk
                os.ftruncate(self._fd, self.start)
            self.size = self.start
        self._release(remove=False)

    def discard(self) -> None:
        """Remove the temporary file (if still there) and let go of the folder; idempotent."""
        self._release(remove=True)

    def _release(self, remove: bool) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._dir_fd >= 0:
            if remove:
                with suppress(FileNotFoundError):
                    os.unlink(self.temp, dir_fd=self._dir_fd)
            os.close(self._dir_fd)
            self._dir_fd = -1


Step = Callable[[str, Parts], None]


def _no_step(label: str, parts: Parts) -> None:
    """Do nothing between a check and its use (tests put a race here)."""


class Sandbox:
    """Every file operation of the API, confined to one root folder."""

    def __init__(self, root: Path, on_step: Step = _no_step) -> None:
        """Create the root if missing and hold a descriptor of it.

        `on_step` runs between each check and the use that follows it, with a label and the
        parts involved: tests swap files for links there to prove the use does not follow.
        """
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.on_step = on_step
        self._root_fd = os.open(root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)

    def close(self) -> None:
        """Let go of the root."""
        if self._root_fd >= 0:
            os.close(self._root_fd)
            self._root_fd = -1

    # -- walking -------------------------------------------------------------------------------

    def _open_dir(self, name: str, dir_fd: int, parts: Parts) -> int:
        """Open one folder below `dir_fd` without following a link; refuse anything else."""
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
        except OSError as exc:
            info = _lstat(name, dir_fd) if exc.errno in (errno.ELOOP, errno.ENOTDIR) else None
            if info is not None:
                refuse_kind(parts, info, Kind.DIR)
            raise fs_error(exc, parts) from None

    def _dir(self, parts: Parts) -> int:
        """Return a new descriptor of the folder `parts`, walked one name at a time."""
        _refuse_unsafe(parts)
        # Opened anew, never dup()ed: a dup shares the directory's read position, so two
        # listings of the root at once (a page's listing and its usage) would each see part.
        fd = os.open(".", _DIR_FLAGS, dir_fd=self._root_fd)
        try:
            for depth, name in enumerate(parts, 1):
                self.on_step("walk", parts[:depth])
                child = self._open_dir(name, fd, parts[:depth])
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return fd

    @contextmanager
    def _parent(self, parts: Parts) -> Iterator[int]:
        """Yield a descriptor of the folder that holds the last name of `parts`."""
        if not parts:
            raise HubError(ErrorCode.INVALID_PATH, path="", detail="the root itself")
        _refuse_unsafe(parts)
        fd = self._dir(parts[:-1])
        try:
            yield fd
        finally:
            os.close(fd)

    # -- reading -------------------------------------------------------------------------------

    @translated
    def stat(self, parts: Parts) -> Entry:
        """Return the entry at `parts` (the root included), links not followed."""
        if not parts:
            return make_entry(parts, os.stat(self._root_fd))
        with self._parent(parts) as fd:
            info = _lstat(parts[-1], fd)
            if info is None:
                raise HubError(ErrorCode.NOT_FOUND, what="file", id=join(parts))
            target = os.readlink(parts[-1], dir_fd=fd) if stat.S_ISLNK(info.st_mode) else None
            return make_entry(parts, info, target)

    @translated
    def listing(self, parts: Parts) -> list[Entry]:
        """Return every name in the folder `parts`, links and special files as themselves."""
        fd = self._dir(parts)
        try:
            entries = []
            with os.scandir(fd) as names:
                for item in names:
                    try:
                        info = os.stat(item.name, dir_fd=fd, follow_symlinks=False)
                        target = None
                        if stat.S_ISLNK(info.st_mode):
                            target = os.readlink(item.name, dir_fd=fd)
                    except FileNotFoundError:  # removed while listed
                        continue
                    entries.append(make_entry((*parts, item.name), info, target))
            return entries
        finally:
            os.close(fd)

    @translated
    def open_file(self, parts: Parts) -> OpenFile:
        """Open the regular file at `parts` for reading; the caller closes it."""
        with self._parent(parts) as dir_fd:
            name = parts[-1]
            info = _lstat(name, dir_fd)
            if info is None:
                raise HubError(ErrorCode.NOT_FOUND, what="file", id=join(parts))
            refuse_kind(parts, info, Kind.FILE)
            self.on_step("open", parts)
            try:
                fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
            except OSError as exc:
                raise fs_error(exc, parts) from None
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # swapped for something else after the check
            os.close(fd)
            refuse_kind(parts, opened, Kind.FILE)
        return OpenFile(fd, make_entry(parts, opened))

    @translated
    def usage(self, parts: Parts, max_seconds: float, max_entries: int) -> Usage:
        """Add up a folder's files, stopping at either budget; links are never followed.

        The walk goes depth first and holds one descriptor per level, never one per folder
        waiting to be read, so a wide tree cannot run the process out of descriptors.
        """
        started = time.monotonic()
        deadline = started + max_seconds
        size = files = folders = others = seen = 0
        complete = True
        levels: list[tuple[int, Iterator[os.DirEntry[str]]]] = []

        def enter(fd: int) -> None:
            try:
                levels.append((fd, os.scandir(fd)))
            except BaseException:
                os.close(fd)
                raise

        enter(self._dir(parts))
        try:
            while levels:
                fd, names = levels[-1]
                item = next(names, None)
                if item is None:
                    levels.pop()
                    _close_level(fd, names)
                    continue
                seen += 1
                if seen > max_entries or time.monotonic() > deadline:
                    complete = False
                    break
                info = _lstat(item.name, fd)
                if info is None:  # removed while listed
                    continue
                if stat.S_ISREG(info.st_mode):
                    files += 1
                    size += info.st_size
                elif not stat.S_ISDIR(info.st_mode):
                    others += 1
                elif len(levels) > MAX_DEPTH:
                    folders += 1
                    complete = False  # counted, not entered
                else:
                    folders += 1
                    with suppress(OSError):  # a folder swapped for a link is skipped
                        enter(os.open(item.name, _DIR_FLAGS, dir_fd=fd))
        finally:
            for fd, names in levels:
                _close_level(fd, names)
        elapsed = time.monotonic() - started
        return Usage(join(parts), size, files, folders, others, complete, elapsed)

    # -- changing ------------------------------------------------------------------------------

    @translated
    def begin_upload(self, parts: Parts, overwrite: bool, temp: str | None = None) -> Upload:
        """Start writing a file at `parts`; refuse at once what the commit would refuse.

        `temp` names the hidden file (a resumable upload's part file); a fresh name otherwise.
        """
        return self._upload(parts, overwrite, temp, None, check=True)

    @translated
    def resume_upload(self, parts: Parts, overwrite: bool, temp: str, offset: int) -> Upload:
        """Reopen a resumable upload's part file at `offset` (where it must end) to add to it."""
        return self._upload(parts, overwrite, temp, offset, check=False)

    @translated
    def drop_part(self, parts: Parts, temp: str) -> None:
        """Remove a resumable upload's part file, if it and its folder are still there."""
        _refuse_unsafe((*parts[:-1], temp))
        with self._parent(parts) as fd, suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=fd)

    def _upload(
        self, parts: Parts, overwrite: bool, temp: str | None, offset: int | None, check: bool
    ) -> Upload:
        if not parts:
            raise HubError(ErrorCode.INVALID_PATH, path="", detail="the root itself")
        _refuse_unsafe(parts)
        if temp is not None:
            _refuse_unsafe((temp,))
        dir_fd = self._dir(parts[:-1])
        try:
            info = _lstat(parts[-1], dir_fd)
            if info is not None and check:
                if not overwrite:
                    raise HubError(ErrorCode.ALREADY_EXISTS, path=join(parts))
                refuse_kind(parts, info, Kind.FILE)
            return Upload(parts, dir_fd, overwrite, info is not None, temp, offset)
        except OSError as exc:
            os.close(dir_fd)
            raise fs_error(exc, parts) from None
        except BaseException:
            os.close(dir_fd)
            raise

    @translated
    def make_folder(self, parts: Parts) -> Entry:
        """Create the folder `parts`; its parent must exist."""
        with self._parent(parts) as fd:
            try:
                os.mkdir(parts[-1], 0o755, dir_fd=fd)  # mkdir never follows a link
            except FileExistsError:
                # Say what is in the way when it is a link or a special file.
                check_target(parts, _lstat(parts[-1], fd), overwrite=True)
                raise HubError(ErrorCode.ALREADY_EXISTS, path=join(parts)) from None
            return make_entry(parts, os.stat(parts[-1], dir_fd=fd, follow_symlinks=False))

    @translated
    def remove_file(self, parts: Parts) -> None:
        """Remove a file, or a symbolic link itself (never what it points at)."""
        with self._parent(parts) as fd:
            info = _lstat(parts[-1], fd)
            if info is None:
                raise HubError(ErrorCode.NOT_FOUND, what="file", id=join(parts))
            if not stat.S_ISLNK(info.st_mode):
                refuse_kind(parts, info, Kind.FILE)
            self.on_step("remove", parts)
            try:
                os.unlink(parts[-1], dir_fd=fd)  # unlink never follows a link
            except OSError as exc:
                raise fs_error(exc, parts) from None

    @translated
    def remove_folder(self, parts: Parts, recursive: bool) -> None:
        """Remove a folder; with `recursive`, everything in it, never following a link."""
        with self._parent(parts) as fd:
            info = _lstat(parts[-1], fd)
            if info is None:
                raise HubError(ErrorCode.NOT_FOUND, what="folder", id=join(parts))
            refuse_kind(parts, info, Kind.DIR)
            try:
                if recursive:
                    self._remove_tree(parts, fd)
                else:
                    os.rmdir(parts[-1], dir_fd=fd)
            except OSError as exc:
                if exc.errno == errno.EEXIST:  # some systems say so for a non-empty folder
                    exc.errno = errno.ENOTEMPTY
                raise fs_error(exc, parts) from None

    def _remove_tree(self, parts: Parts, dir_fd: int) -> None:
        if not shutil.rmtree.avoids_symlink_attacks:
            raise HubError(ErrorCode.FILE_ERROR, path=join(parts), detail="unsafe on this system")
        # shutil's descriptor-based walk opens each folder relative to its parent and checks
        # it is the folder it listed, so a link swapped in is removed, not followed.
        self.on_step("remove", parts)
        shutil.rmtree(parts[-1], dir_fd=dir_fd)

    @translated
    def move(self, source: Parts, target: Parts, overwrite: bool) -> Entry:
        """Rename `source` to `target`; a link moves as itself."""
        refuse_nesting(source, target)
        with self._parent(source) as src_fd, self._parent(target) as dst_fd:
            info = _lstat(source[-1], src_fd)
            if info is None:
                raise HubError(ErrorCode.NOT_FOUND, what="file", id=join(source))
            if kind_of(info.st_mode) is Kind.OTHER:
                raise HubError(ErrorCode.SPECIAL_FILE, path=join(source))
            check_target(target, _lstat(target[-1], dst_fd), overwrite)
            self.on_step("move", target)
            try:
                if overwrite:
                    os.rename(source[-1], target[-1], src_dir_fd=src_fd, dst_dir_fd=dst_fd)
                else:
                    _rename_noreplace(source[-1], src_fd, target[-1], dst_fd)
            except OSError as exc:
                raise fs_error(exc, target if exc.errno != errno.ENOENT else source) from None
            placed = os.stat(target[-1], dir_fd=dst_fd, follow_symlinks=False)
            return make_entry(target, placed)

    @translated
    def copy(self, source: Parts, target: Parts, overwrite: bool) -> Copied:
        """Copy a file or a folder tree; links and special files inside are skipped."""
        refuse_nesting(source, target)
        with self._parent(source) as src_fd, self._parent(target) as dst_fd:
            info = _lstat(source[-1], src_fd)
            if info is None:
                raise HubError(ErrorCode.NOT_FOUND, what="file", id=join(source))
            kind = kind_of(info.st_mode)
            if kind not in (Kind.FILE, Kind.DIR):
                refuse_kind(source, info, Kind.FILE)
            check_target(target, _lstat(target[-1], dst_fd), overwrite)
            temp = temp_name()
            tally = _Tally()
            try:
                if kind is Kind.FILE:
                    self._copy_file(source, source[-1], src_fd, temp, dst_fd, tally)
                    if not tally.files:  # swapped for a link or a FIFO after the check
                        reason = "swapped for a link or special file"
                        path = join(source)
                        raise HubError(ErrorCode.PATH_OUTSIDE_ROOT, path=path, reason=reason)
                else:
                    top = self._open_dir(source[-1], src_fd, source)
                    try:
                        self._copy_dir(source, top, temp, dst_fd, tally, 0)
                    finally:
                        os.close(top)
                self.on_step("copy", target)
                if kind is Kind.FILE:
                    _place_file(temp, target[-1], dst_fd, overwrite)
                elif overwrite:
                    os.rename(temp, target[-1], src_dir_fd=dst_fd, dst_dir_fd=dst_fd)
                else:
                    _rename_noreplace(temp, dst_fd, target[-1], dst_fd)
                placed = os.stat(target[-1], dir_fd=dst_fd, follow_symlinks=False)
            except OSError as exc:
                self._discard(temp, dst_fd)
                raise fs_error(exc, target if exc.errno != errno.ENOENT else source) from None
            except BaseException:
                self._discard(temp, dst_fd)
                raise
        entry = make_entry(target, placed)
        return Copied(entry, tally.files, tally.folders, tally.size, tally.skipped)

    def _discard(self, temp: str, dir_fd: int) -> None:
        """Remove a half-made copy, file or folder, without following links."""
        info = _lstat(temp, dir_fd)
        if info is None:
            return
        with suppress(OSError):
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(temp, dir_fd=dir_fd)
            else:
                os.unlink(temp, dir_fd=dir_fd)

    def _copy_file(
        self, parts: Parts, name: str, src_fd: int, new: str, dst_fd: int, tally: _Tally
    ) -> None:
        """Copy one regular file's bytes and permission bits; skip what is no longer one."""
        self.on_step("open", parts)
        try:
            fd = os.open(name, _READ_FLAGS, dir_fd=src_fd)
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOENT):
                raise
            tally.skipped += 1  # swapped for a link, or removed, after the listing
            return
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):  # swapped for a FIFO after the listing
                tally.skipped += 1
                return
            out = os.open(new, _CREATE_FLAGS, stat.S_IMODE(info.st_mode) | 0o200, dir_fd=dst_fd)
            try:
                offset = 0
                while chunk := os.pread(fd, COPY_CHUNK, offset):
                    _write_all(out, chunk)
                    offset += len(chunk)
                os.fchmod(out, stat.S_IMODE(info.st_mode))
            finally:
                os.close(out)
            tally.files += 1
            tally.size += offset
        finally:
            os.close(fd)

    def _copy_dir(
        self, parts: Parts, here: int, new: str, dst_fd: int, tally: _Tally, depth: int
    ) -> None:
        """Copy the open folder `here` and what is in it into a new folder `new`."""
        if depth > MAX_DEPTH:
            detail = f"deeper than {MAX_DEPTH} folders"
            raise HubError(ErrorCode.FILE_ERROR, path=join(parts), detail=detail)
        mode = stat.S_IMODE(os.fstat(here).st_mode)
        os.mkdir(new, 0o700, dir_fd=dst_fd)
        there = os.open(new, _DIR_FLAGS, dir_fd=dst_fd)
        try:
            with os.scandir(here) as names:
                for item in names:
                    info = _lstat(item.name, here)
                    child = (*parts, item.name)
                    if info is not None and stat.S_ISREG(info.st_mode):
                        self._copy_file(child, item.name, here, item.name, there, tally)
                        continue
                    if info is None or not stat.S_ISDIR(info.st_mode):
                        tally.skipped += int(info is not None)
                        continue
                    self.on_step("walk", child)
                    try:
                        inner = os.open(item.name, _DIR_FLAGS, dir_fd=here)
                    except OSError:  # swapped for a link, or removed, after the listing
                        tally.skipped += 1
                        continue
                    try:
                        self._copy_dir(child, inner, item.name, there, tally, depth + 1)
                    finally:
                        os.close(inner)
            os.fchmod(there, mode | 0o700)
        finally:
            os.close(there)
        tally.folders += 1


def _refuse_unsafe(parts: Parts) -> None:
    """Refuse names that are not one plain name each, whatever the caller checked before.

    `files.paths.parse` refuses these already; the sandbox refuses them again because an
    `openat` of `..` would climb out of the root however carefully links are avoided.
    """
    for name in parts:
        if name in ("", ".", "..") or "/" in name or "\x00" in name:
            raise HubError(ErrorCode.PATH_OUTSIDE_ROOT, path=join(parts), reason="not a plain name")


def _close_level(fd: int, names: Iterator[os.DirEntry[str]]) -> None:
    close = getattr(names, "close", None)
    if close is not None:
        close()
    os.close(fd)


@dataclass(slots=True)
class _Tally:
    files: int = 0
    folders: int = 0
    size: int = 0
    skipped: int = 0
