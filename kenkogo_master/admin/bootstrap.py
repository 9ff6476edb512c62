"""First start: an `admin` account with a random password, shown once and kept in a 0600 file.

The password is written to the console directly, never through logging, so that it reaches
neither the log files nor the live log stream.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from kenkogo_master.admin.accounts import BOOTSTRAP_NAME, Account, Accounts
from kenkogo_master.admin.audit import Actor, ActorKind, AuditLog
from kenkogo_master.admin.passwords import generate_password
from kenkogo_master.observability.logs import record_factory

log = logging.getLogger(__name__)

PASSWORD_FILE = "admin-password"
SYSTEM = Actor(ActorKind.SYSTEM, "", "master")


def write_secret(path: Path, secret: str) -> None:
    """Write a secret to a file only its owner may read (its folder made if need be)."""
    # With PostgreSQL nothing else may have made the data directory yet.
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    os.chmod(path, 0o600)  # O_CREAT's mode does not apply to a file that existed


def show_on_console(text: str) -> None:
    """Write a line for the operator to the console, bypassing logging."""
    print(text, file=sys.stderr, flush=True)


async def ensure_admin_account(accounts: Accounts, audit: AuditLog, data_dir: Path) -> Path | None:
    """Create the `admin` account when there is no account; return the password's file."""
    if await accounts.count():
        return None
    password = generate_password()
    record_factory().redactor.add_secrets([password])  # masked should it ever reach a record
    account = await accounts.create(BOOTSTRAP_NAME, password, generated=True)
    path = data_dir / PASSWORD_FILE
    write_secret(path, password)
    show_on_console(
        f"KenkoGo Master: created the account {BOOTSTRAP_NAME!r} with the password {password}\n"
        f"  (shown once; also kept in {path} until the password is changed)"
    )
    log.warning("created the account %r; its password is in %s", BOOTSTRAP_NAME, path)
    await audit.record(SYSTEM, "create_account", target=account.name)
    return path


def forget_generated_password(account: Account, data_dir: Path) -> None:
    """Delete the first-start password's file once that account's password changed or it went."""
    if account.name != BOOTSTRAP_NAME:
        return
    path = data_dir / PASSWORD_FILE
    try:
        path.unlink()
    except FileNotFoundError:
        return
    log.info("removed %s: the password it held is no longer valid", path)
