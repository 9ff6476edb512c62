"""Backups of the SQLite database: consistent online snapshots, and checked restores."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from kenkogo_master.store import migrate

SQLITE_HEADER = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore that cannot be done, phrased for the operator."""


def sqlite_path(database_url: str) -> Path | None:
    """Return the file of a SQLite URL, or None for other engines and in-memory databases."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def snapshot(source: Path, target: Path) -> None:
    """Copy the live database at `source` into a new file `target`, consistently.

    SQLite's online backup API copies every page in one step, inside one read transaction: in
    WAL mode writers go on meanwhile, and the copy is the database as of that transaction's
    start — never a mix of two moments, as copying the file being written would be. The copy
    leaves WAL mode, so that it is one self-contained file.
    """
    if not source.exists():
        raise BackupError(f"{source}: no database file")
    origin = sqlite3.connect(source, timeout=30)
    try:
        copy = sqlite3.connect(target)
        try:
            origin.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE").fetchall()
        finally:
            copy.close()
    finally:
        origin.close()


@dataclass(frozen=True, slots=True)
class CheckedBackup:
    """A backup that passed its checks, and the schema revision it holds."""

    path: Path
    revision: str


def check_backup(path: Path) -> CheckedBackup:
    """Check that `path` is a sound KenkoGo database this code can run on; raise BackupError."""
    try:
        with path.open("rb") as stream:
            header = stream.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise BackupError(f"{path}: cannot be read ({exc.strerror})") from None
    if header != SQLITE_HEADER:
        raise BackupError(f"{path}: not a SQLite database")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check(10)")]
            if problems != ["ok"]:
                raise BackupError(f"{path}: fails its integrity check: {problems[0]}")
            try:
                row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            except sqlite3.OperationalError:
                row = None
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: cannot be read as a database ({exc})") from None
    if row is None:
        raise BackupError(f"{path}: holds no schema revision; not a KenkoGo Master database")
    revision = str(row[0])
    if revision not in migrate.known_revisions():
        raise BackupError(
            f"{path}: schema revision {revision} is newer than this Master's "
            f"({migrate.head_revision()}); restore it with the version that wrote it"
        )
    return CheckedBackup(path, revision)


def _settle(database: Path) -> None:
    """Fold the WAL into the database file, so that the file alone holds everything."""
    connection = sqlite3.connect(database, timeout=30)
    try:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()
    if busy:
        raise BackupError(f"{database}: in use by another process; close it first")


def restore(backup: CheckedBackup, database: Path) -> Path | None:
    """Put a checked backup in place of `database`; return where the old one was kept.

    Only while no Master runs (the caller holds the data directory's lock). The old database
    is kept beside the new one as `<name>.before-restore-<UTC time>`.
    """
    partial = database.with_name(database.name + ".restoring")
    shutil.copyfile(backup.path, partial)
    with partial.open("rb+") as stream:
        os.fsync(stream.fileno())
    kept: Path | None = None
    if database.exists():
        _settle(database)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        kept = database.with_name(f"{database.name}.before-restore-{stamp}")
        os.replace(database, kept)
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    os.replace(partial, database)
    return kept
