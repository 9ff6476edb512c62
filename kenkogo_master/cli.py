"""Command line: serve (default), migrate, compile-catalogs, admin, db, app, healthcheck, runner."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from kenkogo_master import __version__
from kenkogo_master.runner import cli as runner_cli
from kenkogo_master.settings import Settings, SettingsError, load_settings

log = logging.getLogger("kenkogo_master")

EXIT_CONFIG = 2
EXIT_STARTUP = 1
EXIT_REFUSED = 1


def build_parser() -> argparse.ArgumentParser:
    """Describe the sub-commands."""
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="KenkoGo Master: a message-scheduling hub for chat bots.",
    )
    parser.add_argument("--version", action="version", version=f"KenkoGo Master {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        default=Path("config.toml"),
        help="TOML configuration file (default: ./config.toml, optional); "
        "KENKOGO_<SECTION>__<KEY> environment variables override it",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("serve", help="run the Master (the default)")
    migrate = commands.add_parser("migrate", help="upgrade (or downgrade) the database schema")
    migrate.add_argument(
        "revision",
        nargs="?",
        default="head",
        help="target revision: head (default), base, or an id",
    )
    migrate.add_argument("--down", action="store_true", help="downgrade to the revision")
    catalogs = commands.add_parser(
        "compile-catalogs", help="compile the message catalogs (.po to .mo) that are stale"
    )
    catalogs.add_argument("--force", action="store_true", help="compile every catalog")
    _add_admin_parser(commands)
    runner = commands.add_parser(
        "runner", help="run a runner agent that hosts apps for a Master (see README, Runners)"
    )
    runner_cli.add_arguments(runner)
    _add_app_parser(commands)
    catalogs.add_argument(
        "--locales-dir",
        type=Path,
        default=None,
        help="catalog tree (default: [i18n] locales_dir, else the one shipped)",
    )
    db = commands.add_parser("db", help="back up or restore the SQLite database")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    backup = db_commands.add_parser(
        "backup", help="write a consistent copy of the database to PATH (also while serving)"
    )
    backup.add_argument("path", type=Path, metavar="PATH")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    restore = db_commands.add_parser(
        "restore",
        help="replace the database with the backup at PATH (the Master must be stopped; "
        "the old database is kept beside it)",
    )
    restore.add_argument("path", type=Path, metavar="PATH")
    health = commands.add_parser(
        "healthcheck",
        help="ask the running Master's /health on the configured port; exit 0 when it answers "
        "200, else 1 (a container's HEALTHCHECK)",
    )
    health.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=3.0,
        help="seconds to wait for the answer (default 3)",
    )
    return parser


def _positive_seconds(text: str) -> float:
    """Parse a number of seconds above 0 (argparse reports the error and exits with 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 3600: {text!r}")
    return value


def _add_admin_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Describe `admin create|passwd|list|disable|enable`."""
    admin = commands.add_parser(
        "admin", help="manage admin accounts (against the configured database)"
    )
    verbs = admin.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb, text in (
        ("create", "create an account (the password is asked for twice)"),
        ("passwd", "set an account's password; its sessions end"),
    ):
        parser = verbs.add_parser(verb, help=text)
        parser.add_argument("name", metavar="NAME")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password as one line of standard input (for scripts)",
        )
    verbs.add_parser("list", help="list the accounts")
    verbs.add_parser("disable", help="disable an account; its sessions end").add_argument(
        "name", metavar="NAME"
    )
    verbs.add_parser("enable", help="enable a disabled account").add_argument(
        "name", metavar="NAME"
    )


def _add_app_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `app pack`."""
    app = commands.add_parser("app", help="build app packages")
    verbs = app.add_subparsers(dest="verb", metavar="VERB", required=True)
    pack = verbs.add_parser("pack", help="build a package (zip) from a folder with kenkogo.toml")
    pack.add_argument("dir", type=Path, help="the app's folder, kenkogo.toml at its root")
    pack.add_argument(
        "-o", "--output", type=Path, default=None, help="the package file (default: ID-VERSION.zip)"
    )


def _load(config: Path) -> Settings:
    try:
        return load_settings(config)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def _check_texts(settings: Settings) -> None:
    """Compile and load the catalogs before serving, so a broken one stops start-up in one line."""
    from kenkogo_master.i18n.catalogs import CatalogError
    from kenkogo_master.i18n.service import load_texts

    try:
        load_texts(settings.i18n)
    except CatalogError as exc:
        print(f"catalog error: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
    except ValueError as exc:
        print(f"configuration error: i18n.default_locale: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def new_event_loop() -> asyncio.AbstractEventLoop:
    """Return a uvloop event loop where uvloop is installed, else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    # About a fifth more messages a second at saturation than asyncio's loop (bench/README.md).
    return uvloop.new_event_loop()


def serve(settings: Settings) -> int:
    """Run the Master until it is stopped."""
    from kenkogo_master.app import create_app
    from kenkogo_master.gc_tuning import freeze_startup_heap, tune_collector
    from kenkogo_master.observability.logs import setup_logging
    from kenkogo_master.stopping import install_stop_signals
    from kenkogo_master.store.lockfile import DataDirLock
    from kenkogo_master.transport.tls import TlsError, server_context

    _check_texts(settings)
    try:
        ssl_context = server_context(settings.server)
    except TlsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
    # Held while serving: `db restore` refuses to swap the database under a running Master.
    lock = DataDirLock(settings.storage.data_dir)
    if not lock.acquire():
        print(
            f"cannot start: another Master (pid {lock.holder()}) serves "
            f"{settings.storage.data_dir}",
            file=sys.stderr,
        )
        return EXIT_STARTUP
    setup_logging(settings.logging, settings.storage.data_dir)
    log.info(
        "KenkoGo Master %s starting on %s:%d%s",
        __version__,
        settings.server.host,
        settings.server.port,
        " (TLS)" if ssl_context is not None else "",
    )
    tune_collector()
    app = create_app(settings)
    app.on_startup.append(install_stop_signals)
    app.on_startup.append(freeze_startup_heap)  # last: after every part has started
    try:
        web.run_app(
            app,
            host=settings.server.host,
            port=settings.server.port,
            ssl_context=ssl_context,
            print=None,
            access_log=None,
            handle_signals=False,  # install_stop_signals hands work over first
            loop=new_event_loop(),
        )
    except OSError as exc:
        log.error("cannot start: %s", exc)
        return EXIT_STARTUP
    finally:
        lock.release()
    # The last line of a clean stop, so that a log (or `docker logs`) shows it was not a kill.
    log.info("KenkoGo Master stopped")
    return 0


def migrate_command(settings: Settings, revision: str, down: bool) -> int:
    """Move the database schema to `revision`."""
    from alembic.util import CommandError

    from kenkogo_master.store import migrate
    from kenkogo_master.store.db import create_engine

    async def run() -> None:
        engine = create_engine(settings.storage)
        try:
            if down:
                await migrate.downgrade(engine, revision)
            else:
                await migrate.upgrade(engine, revision)
        finally:
            await engine.dispose()

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        asyncio.run(run())
    except CommandError as exc:
        # A revision that does not exist is the operator's typo, not a crash.
        print(f"migrate: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"database at {'down' if down else 'up'}grade target {revision}")
    return 0


def _sqlite_file(settings: Settings, action: str) -> Path:
    """Return the SQLite database file, or stop: other engines have their own tools."""
    from kenkogo_master.store.backup import sqlite_path

    url = settings.storage.resolved_database_url()
    path = sqlite_path(url)
    if path is None:
        tool = "pg_dump" if action == "backup" else "pg_restore"
        engine = url.partition(":")[0].partition("+")[0]
        print(
            f"db {action}: the Master backs up only SQLite; use {tool} for {engine}",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_CONFIG)
    return path


def backup_command(settings: Settings, target: Path, force: bool) -> int:
    """Write a consistent online copy of the database to `target`."""
    from kenkogo_master.store.backup import BackupError, snapshot

    source = _sqlite_file(settings, "backup")
    if target.exists() and not force:
        print(f"db backup: {target} exists (--force replaces it)", file=sys.stderr)
        return EXIT_CONFIG
    partial = target.with_name(target.name + ".partial")
    try:
        partial.unlink(missing_ok=True)
        snapshot(source, partial)
        partial.replace(target)
    except (BackupError, OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        print(f"db backup: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"backed up {source} to {target} ({target.stat().st_size} bytes)")
    return 0


def restore_command(settings: Settings, source: Path) -> int:
    """Replace the database with a checked backup, while no Master serves the data directory."""
    from kenkogo_master.store.backup import BackupError, check_backup, restore
    from kenkogo_master.store.lockfile import DataDirLock

    database = _sqlite_file(settings, "restore")
    lock = DataDirLock(settings.storage.data_dir)
    if not lock.acquire():
        print(
            f"db restore: a Master (pid {lock.holder()}) is running on "
            f"{settings.storage.data_dir}; stop it first",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    try:
        checked = check_backup(source)
        kept = restore(checked, database)
    except (BackupError, OSError, sqlite3.Error) as exc:
        print(f"db restore: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        lock.release()
    print(f"restored {source} (schema revision {checked.revision}) into {database}")
    if kept is not None:
        print(f"the previous database is kept as {kept}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen sub-command."""
    args = build_parser().parse_args(argv)
    if args.command == "runner":  # another machine's agent: the Master's configuration is not its
        return runner_cli.run(args)
    if args.command == "app":  # needs no configuration
        from kenkogo_master.deploy.pack import pack_command

        return pack_command(args.dir, args.output)
    settings = _load(args.config)
    if args.command == "migrate":
        return migrate_command(settings, args.revision, args.down)
    if args.command == "admin":
        from kenkogo_master.admin.commands import admin_command

        name = getattr(args, "name", None)
        return admin_command(settings, args.verb, name, getattr(args, "password_stdin", False))
    if args.command == "db":
        if args.db_command == "backup":
            return backup_command(settings, args.path, args.force)
        return restore_command(settings, args.path)
    if args.command == "healthcheck":
        from kenkogo_master.healthcheck import check

        code, line = check(settings.server, args.timeout)
        print(line, file=sys.stdout if code == 0 else sys.stderr)
        return code
    if args.command == "compile-catalogs":
        from kenkogo_master.i18n.catalogs import compile_command

        return compile_command(args.locales_dir or settings.i18n.locales_dir, force=args.force)
    return serve(settings)
