"""`python main.py admin ...`: manage accounts from the Master's machine, against its database."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from kenkogo_master.admin.accounts import Account, AccountError, Accounts
from kenkogo_master.admin.audit import Actor, ActorKind, AuditLog
from kenkogo_master.admin.bootstrap import forget_generated_password
from kenkogo_master.admin.passwords import Passwords
from kenkogo_master.settings import Settings
from kenkogo_master.store import migrate
from kenkogo_master.store.db import create_engine
from kenkogo_master.store.writer import Writer

EXIT_REFUSED = 1  # the account exists, does not exist, or the password is refused
EXIT_USAGE = 2


class PasswordInputError(Exception):
    """No password could be read: mismatch, end of input."""


def read_password(from_stdin: bool, stdin: TextIO | None = None) -> str:
    """Read a new password: one line of standard input, or twice from the terminal unechoed."""
    if from_stdin:
        line = (stdin or sys.stdin).readline()
        if not line:
            raise PasswordInputError("no password on standard input")
        return line.rstrip("\r\n")
    try:
        first = getpass.getpass("New password: ")
        again = getpass.getpass("Repeat it: ")
    except EOFError:
        raise PasswordInputError("no password entered") from None
    if first != again:
        raise PasswordInputError("the two passwords differ")
    return first


def _local_actor() -> Actor:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (a container)
        user = ""
    return Actor(ActorKind.CLI, "", user)


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _table(accounts: list[Account]) -> str:
    rows = [("NAME", "STATE", "CREATED", "PASSWORD CHANGED", "LAST LOGIN")]
    rows += [
        (
            account.name,
            "disabled" if account.disabled else "enabled",
            _when(account.created_ms),
            _when(account.password_changed_ms)
            + (" (generated)" if account.password_generated else ""),
            _when(account.last_login_ms),
        )
        for account in accounts
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


Action = Callable[[Accounts, AuditLog], Awaitable[str]]


async def run_action(settings: Settings, action: Action) -> str:
    """Migrate the configured database, then run `action` with accounts and the audit trail."""
    settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.storage)
    try:
        await migrate.upgrade(engine)
        writer = Writer(
            engine,
            interval=settings.storage.flush_interval_ms / 1000,
            max_rows=settings.storage.flush_max_rows,
            queue_limit=settings.storage.writer_queue_limit,
        )
        await writer.start()
        try:
            accounts = Accounts(
                engine, Passwords(settings.admin), settings.admin.min_password_length
            )
            return await action(accounts, AuditLog(engine, writer))
        finally:
            await writer.stop()
    finally:
        await engine.dispose()


def create(name: str, password: str) -> Action:
    """Create an account."""

    async def act(accounts: Accounts, audit: AuditLog) -> str:
        try:
            account = await accounts.create(name, password)
        except AccountError:
            await audit.record(_local_actor(), "create_account", target=name, result="refused")
            raise
        await audit.record(_local_actor(), "create_account", target=account.name)
        return f"created the account {account.name!r}"

    return act


def change_password(name: str, password: str, data_dir: Path) -> Action:
    """Set an account's password; its sessions end."""

    async def act(accounts: Accounts, audit: AuditLog) -> str:
        account, ended = await accounts.set_password(name, password)
        forget_generated_password(account, data_dir)
        await audit.record(
            _local_actor(),
            "change_password",
            target=account.name,
            detail={"sessions_ended": len(ended)},
        )
        return f"changed the password of {account.name!r}; {len(ended)} session(s) ended"

    return act


def set_disabled(name: str, disabled: bool, data_dir: Path) -> Action:
    """Disable (ending its sessions) or enable an account."""

    async def act(accounts: Accounts, audit: AuditLog) -> str:
        account, ended = await accounts.set_disabled(name, disabled)
        verb = "disable" if disabled else "enable"
        if disabled:
            forget_generated_password(account, data_dir)
        await audit.record(
            _local_actor(),
            f"{verb}_account",
            target=account.name,
            detail={"sessions_ended": len(ended)},
        )
        suffix = f"; {len(ended)} session(s) ended" if disabled else ""
        return f"{verb}d the account {account.name!r}{suffix}"

    return act


async def _listing(accounts: Accounts, audit: AuditLog) -> str:
    found = await accounts.listing()
    return _table(found) if found else "no accounts"


def admin_command(settings: Settings, verb: str, name: str | None, password_stdin: bool) -> int:
    """Run `admin create|passwd|list|disable|enable` and print its outcome."""
    data_dir = settings.storage.data_dir
    action: Action
    if verb == "list":
        action = _listing
    elif name is None:
        print(f"admin {verb}: an account NAME is needed", file=sys.stderr)
        return EXIT_USAGE
    elif verb in ("create", "passwd"):
        try:
            password = read_password(password_stdin)
        except PasswordInputError as exc:
            print(f"admin {verb}: {exc}", file=sys.stderr)
            return EXIT_REFUSED
        action = (
            create(name, password)
            if verb == "create"
            else change_password(name, password, data_dir)
        )
    else:
        action = set_disabled(name, verb == "disable", data_dir)
    try:
        print(asyncio.run(run_action(settings, action)))
    except AccountError as exc:
        print(f"admin {verb}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    return 0
