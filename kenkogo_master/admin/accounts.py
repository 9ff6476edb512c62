"""Admin accounts in SQL: create, list, disable, check a password, change it."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kenkogo_master.admin.passwords import Passwords
from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.store.admin_models import AdminAccount, AdminSession

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
BOOTSTRAP_NAME = "admin"  # the account made on first start
MAX_PASSWORD = 1024  # longer is no safer, and costs hashing time


class AccountError(Exception):
    """A request about accounts that cannot be done, phrased for the operator."""


class AccountExists(AccountError):
    """The name is taken."""


class NoSuchAccount(AccountError):
    """No account has that name."""


class LastAccount(AccountError):
    """Disabling it would leave no enabled account: nobody could sign in to the panel."""


@dataclass(frozen=True, slots=True)
class Account:
    """An admin account, without its password hash."""

    id: str
    name: str
    disabled: bool
    password_generated: bool
    created_ms: int
    password_changed_ms: int
    last_login_ms: int | None

    @classmethod
    def of(cls, row: Any) -> Account:
        """Build an account from a row of admin_accounts."""
        return cls(
            row.id,
            row.name,
            row.disabled,
            row.password_generated,
            row.created_ms,
            row.password_changed_ms,
            row.last_login_ms,
        )


ACCOUNT_COLUMNS = (
    AdminAccount.id,
    AdminAccount.name,
    AdminAccount.disabled,
    AdminAccount.password_generated,
    AdminAccount.created_ms,
    AdminAccount.password_changed_ms,
    AdminAccount.last_login_ms,
)


class Accounts:
    """Create and check admin accounts; passwords are argon2id hashes."""

    def __init__(self, engine: AsyncEngine, passwords: Passwords, min_length: int) -> None:
        self._engine = engine
        self._passwords = passwords
        self.min_length = min_length

    def check_new_password(self, password: str) -> None:
        """Refuse a password too short or too long to be set."""
        if len(password) < self.min_length:
            raise AccountError(f"the password must have at least {self.min_length} characters")
        if len(password) > MAX_PASSWORD:
            raise AccountError(f"the password must have at most {MAX_PASSWORD} characters")

    async def count(self) -> int:
        """Return how many accounts exist, disabled ones included."""
        async with self._engine.connect() as connection:
            count = await connection.scalar(select(func.count()).select_from(AdminAccount))
        return int(count or 0)

    async def listing(self) -> list[Account]:
        """Return every account, by name."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(select(*ACCOUNT_COLUMNS).order_by(AdminAccount.name))
            return [Account.of(row) for row in rows]

    async def named(self, name: str) -> Account | None:
        """Return the account called `name`, if any."""
        found = await self._find(name)
        return found[0] if found is not None else None

    async def _find(self, name: str) -> tuple[Account, str] | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(*ACCOUNT_COLUMNS, AdminAccount.password_hash).where(
                        AdminAccount.name == name
                    )
                )
            ).first()
        return None if row is None else (Account.of(row), row.password_hash)

    async def create(self, name: str, password: str, *, generated: bool = False) -> Account:
        """Store a new account; raise AccountError for a bad or taken name or a bad password."""
        if not NAME.fullmatch(name):
            raise AccountError(
                f"{name!r} is not an account name: 1 to 64 letters, digits and _ . @ -, "
                "starting with a letter or digit"
            )
        self.check_new_password(password)
        hashed = await self._passwords.hash(password)
        now = now_ms()
        account = Account(new_id(), name, False, generated, now, now, None)
        try:
            async with self._engine.begin() as connection:
                await connection.execute(
                    insert(AdminAccount).values(
                        id=account.id,
                        name=name,
                        password_hash=hashed,
                        disabled=False,
                        password_generated=generated,
                        created_ms=now,
                        password_changed_ms=now,
                    )
                )
        except IntegrityError:
            raise AccountExists(f"an account named {name!r} exists already") from None
        return account

    async def authenticate(self, name: str, password: str) -> Account | None:
        """Return the enabled account whose password this is, or None (in about equal time)."""
        found = await self._find(name)
        hashed = found[1] if found is not None else None
        if not await self._passwords.verify(hashed, password) or found is None:
            return None
        account, hashed = found
        if account.disabled:
            return None
        values: dict[str, Any] = {"last_login_ms": now_ms()}
        if self._passwords.needs_rehash(hashed):
            # The configured parameters went up since this hash was made.
            values["password_hash"] = await self._passwords.hash(password)
        async with self._engine.begin() as connection:
            await connection.execute(
                update(AdminAccount).where(AdminAccount.id == account.id).values(**values)
            )
        return account

    async def verify(self, account_id: str, password: str) -> bool:
        """Tell whether `password` is the current password of an account."""
        async with self._engine.connect() as connection:
            hashed = await connection.scalar(
                select(AdminAccount.password_hash).where(AdminAccount.id == account_id)
            )
        return await self._passwords.verify(hashed, password)

    async def set_password(self, name: str, password: str) -> tuple[Account, list[str]]:
        """Change a password and end every session of the account; return it and those ended."""
        self.check_new_password(password)
        account = await self._require(name)
        hashed = await self._passwords.hash(password)
        async with self._engine.begin() as connection:
            await connection.execute(
                update(AdminAccount)
                .where(AdminAccount.id == account.id)
                .values(
                    password_hash=hashed, password_generated=False, password_changed_ms=now_ms()
                )
            )
            ended = await _end_sessions(connection, account.id)
        return account, ended

    async def set_disabled(
        self, name: str, disabled: bool, *, keep_one: bool = False
    ) -> tuple[Account, list[str]]:
        """Disable (ending its sessions) or enable an account; return it and the sessions ended.

        With `keep_one`, refuse (LastAccount) to disable the only enabled account: checked in
        the statement that disables it, so two requests at once cannot both pass.
        """
        account = await self._require(name)
        if disabled and account.disabled:
            return account, []  # its sessions ended when it was disabled
        statement = update(AdminAccount).where(AdminAccount.id == account.id)
        if disabled and keep_one:
            other = AdminAccount.__table__.alias("other")
            statement = statement.where(
                exists().where(other.c.disabled.is_(False), other.c.id != account.id)
            )
        async with self._engine.begin() as connection:
            if disabled and keep_one and connection.dialect.name == "postgresql":
                # Under READ COMMITTED two disables would each see the other still enabled:
                # lock the enabled accounts first, so the second waits and sees the first.
                await connection.execute(
                    select(AdminAccount.id)
                    .where(AdminAccount.disabled.is_(False))
                    .order_by(AdminAccount.id)
                    .with_for_update()
                )
            result = await connection.execute(statement.values(disabled=disabled))
            if result.rowcount == 0:
                raise LastAccount(f"{name!r} is the only enabled account")
            ended = await _end_sessions(connection, account.id) if disabled else []
        return replace(account, disabled=disabled), ended

    async def _require(self, name: str) -> Account:
        account = await self.named(name)
        if account is None:
            raise NoSuchAccount(f"no account is named {name!r}")
        return account


async def _end_sessions(connection: AsyncConnection, account_id: str) -> list[str]:
    """Delete every session of an account in the caller's transaction; return their ids."""
    rows = await connection.execute(
        select(AdminSession.id).where(AdminSession.account_id == account_id)
    )
    ended = [row.id for row in rows]
    await connection.execute(delete(AdminSession).where(AdminSession.account_id == account_id))
    return ended
