"""The table browser's registry: every table is decided on, and secret columns stay hidden."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import Column, String, Table, create_engine, event

from kenkogo_master.store.maintenance import sqlite_table_sizes
from kenkogo_master.store.models import Base
from kenkogo_master.store.table_browser import (
    HIDDEN,
    NOT_BROWSABLE,
    browsable,
    parse_order,
)


def test_every_table_is_either_browsable_or_deliberately_left_out() -> None:
    # A new table must be listed in HIDDEN with its secret columns, or in NOT_BROWSABLE.
    assert set(Base.metadata.tables) == set(HIDDEN) | NOT_BROWSABLE
    assert not set(HIDDEN) & NOT_BROWSABLE


def test_token_hashes_are_hidden_and_cannot_order_a_page() -> None:
    for name in ("api_tokens", "driver_tokens"):
        view = browsable(name)
        assert view is not None
        assert view.hidden == ("token_hash",)
        assert "token_hash" not in view.names
        with pytest.raises(ValueError, match="token_hash"):
            parse_order(view, "token_hash")


@pytest.mark.parametrize(
    "column", ["password_hash", "session_id", "csrf_secret", "token", "refresh_token", "salt"]
)
def test_a_column_named_like_a_secret_is_hidden_even_when_not_listed(
    column: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = Table(
        f"probe_{column}",
        Base.metadata,
        Column("id", String, primary_key=True),
        Column(column, String),
    )
    try:
        monkeypatch.setitem(HIDDEN, table.name, frozenset())  # type: ignore[index]
        view = browsable(table.name)
        assert view is not None and view.hidden == (column,) and view.names == ["id"]
    finally:
        Base.metadata.remove(table)


def test_unknown_tables_are_not_browsable() -> None:
    assert browsable("alembic_version") is None
    assert browsable("sqlite_master") is None
    assert browsable("nope") is None


def test_table_sizes_come_from_dbstat_and_are_none_without_it() -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x)")
        connection.exec_driver_sql("CREATE INDEX ix_t ON t (x)")
        page = connection.exec_driver_sql("PRAGMA page_size").scalar_one()
        assert sqlite_table_sizes(connection) == {"t": 2 * page}  # the table and its index

    def no_dbstat(action: int, table: str | None, *_: object) -> int:
        # What a SQLite built without SQLITE_ENABLE_DBSTAT_VTAB does: refuse to read dbstat.
        return sqlite3.SQLITE_DENY if table == "dbstat" else sqlite3.SQLITE_OK

    @event.listens_for(engine, "connect")
    def _deny(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.set_authorizer(no_dbstat)

    engine.dispose()
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x)")
        assert sqlite_table_sizes(connection) is None
    engine.dispose()
