"""Read-only pages of the known tables, with every secret column left out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.store.models import Base

# The tables that may be browsed, each with the columns it never shows. A table not named here
# is not browsable at all: a new table stays hidden until someone has decided what in it is
# secret (token hashes, password hashes, session ids), and tests/store/test_table_browser.py
# fails until it is listed here or in NOT_BROWSABLE.
HIDDEN: Mapping[str, frozenset[str]] = {
    "apps": frozenset(),
    "app_instances": frozenset(),
    "state_transitions": frozenset(),
    "api_tokens": frozenset({"token_hash"}),
    "drivers": frozenset(),
    "driver_tokens": frozenset({"token_hash"}),
    "messages": frozenset(),
    "deliveries": frozenset(),
    "replies": frozenset(),
    "stats_counters": frozenset(),
    "stats_messages": frozenset(),
    "stats_senders": frozenset(),
    "trace_spans": frozenset(),
    "traces": frozenset(),
    "i18n_texts": frozenset(),
    "i18n_locales": frozenset(),
    "chat_locales": frozenset(),
    "retention_overrides": frozenset(),
    "settings_overrides": frozenset(),  # run-time keys only, never a secret
    "admin_accounts": frozenset({"password_hash"}),
    "audit": frozenset(),
    "onebot_apps": frozenset({"access_token"}),
    "runners": frozenset({"credential_hash"}),
    "runner_enrolments": frozenset({"token_hash"}),
    "package_revisions": frozenset(),
    "package_installs": frozenset(),
    "deployments": frozenset({"secrets"}),
    "deployment_transitions": frozenset(),
}
# Tables deliberately left out of the browser: a session's id is what signs a browser in.
NOT_BROWSABLE: frozenset[str] = frozenset({"admin_sessions"})
# A second guard: columns named like a secret are hidden even where HIDDEN forgot them.
SECRET_NAME = re.compile(r"hash|password|passwd|secret|salt|csrf|session|(^|_)token$|cookie")


@dataclass(frozen=True, slots=True)
class BrowsableTable:
    """A table as the browser shows it: the visible columns and the hidden ones' names."""

    table: Table
    columns: tuple[Column[Any], ...]
    hidden: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        """Return the names of the visible columns."""
        return [column.name for column in self.columns]


def browsable(name: str) -> BrowsableTable | None:
    """Return the browsable table called `name`, or None."""
    table = Base.metadata.tables.get(name)
    if table is None or name not in HIDDEN:
        return None
    hidden = {
        column.name
        for column in table.columns
        if column.name in HIDDEN[name] or SECRET_NAME.search(column.name)
    }
    columns = tuple(column for column in table.columns if column.name not in hidden)
    return BrowsableTable(table, columns, tuple(sorted(hidden)))


def browsable_names() -> list[str]:
    """Return the names of every browsable table."""
    return sorted(name for name in HIDDEN if name in Base.metadata.tables)


def parse_order(view: BrowsableTable, order: str | None) -> list[Any]:
    """Turn `column` or `-column` into ORDER BY terms, the primary key last; raise ValueError."""
    keys = [column for column in view.table.primary_key.columns if column.name not in view.hidden]
    if order is None:
        return keys
    name = order.removeprefix("-")
    column = next((column for column in view.columns if column.name == name), None)
    if column is None:
        raise ValueError(
            f"order: {name!r} is not a column of {view.table.name}; use one of "
            + ", ".join(view.names)
        )
    first = column.desc() if order.startswith("-") else column.asc()
    return [first, *(key for key in keys if key is not column)]


async def page(
    engine: AsyncEngine, view: BrowsableTable, order: list[Any], limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Return one page of rows (visible columns only) and the table's row count."""
    query = select(*view.columns).order_by(*order).limit(limit).offset(offset)
    async with engine.connect() as connection:
        total = await connection.scalar(select(func.count()).select_from(view.table))
        rows = (await connection.execute(query)).mappings().all()
    return [dict(row) for row in rows], int(total or 0)
