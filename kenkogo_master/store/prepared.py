"""Statements compiled once to the driver's SQL, so a group of rows skips SQLAlchemy per row.

SQLAlchemy's `execute(statement, rows)` builds, for every row, a parameter dict through the
compiled statement (about 25 us a row on SQLite, ten times what SQLite itself takes to insert
it). A prepared statement does that work once per shape of row: it keeps the driver-level SQL
and the order of its parameters, and turns each row into a tuple for the driver's executemany,
applying the same type conversions (JSON, booleans) the dialect would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

# Distinct (statement, row keys) pairs remembered; statements built per call just miss.
CACHE_LIMIT = 256

Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement as the driver runs it: SQL text and how to turn a row dict into a tuple."""

    sql: str
    names: tuple[str, ...]
    converters: tuple[Convert | None, ...]

    def tuples(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Return the driver parameters of each row, in the statement's order."""
        names, converters = self.names, self.converters
        if not any(converters):
            return [tuple([row[name] for name in names]) for row in rows]
        pairs = tuple(zip(names, converters, strict=True))
        return [
            tuple([row[name] if convert is None else convert(row[name]) for name, convert in pairs])
            for row in rows
        ]


def prepare(statement: Executable, keys: Sequence[str], dialect: Dialect) -> Prepared | None:
    """Compile `statement` for rows with `keys`; None when only SQLAlchemy can run it right.

    That is when the compiled form needs anything beyond the row's own values: Python-side
    column defaults, literal values bound in the statement, expanding IN lists, RETURNING, or a
    dialect with named parameters.
    """
    if not isinstance(statement, ClauseElement):
        return None
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    if not isinstance(compiled, SQLCompiler) or not dialect.positional:
        return None
    order = compiled.positiontup
    if (
        order is None
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.effective_returning
        or set(order) - set(keys)
        or not all(compiled.binds[name].required for name in order)
    ):
        return None
    converters = tuple(
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in order
    )
    return Prepared(compiled.string, tuple(order), converters)


class PreparedCache:
    """Prepared statements by (statement, row keys), bounded, compiled on first use."""

    def __init__(self, dialect: Dialect, limit: int = CACHE_LIMIT) -> None:
        self._dialect = dialect
        self._limit = limit
        # Holding the statement in the key keeps its id from being reused while cached.
        self._cache: dict[tuple[Executable, tuple[str, ...]], Prepared | None] = {}

    def get(self, statement: Executable, row: dict[str, Any]) -> Prepared | None:
        """Return the prepared form for rows shaped like `row`, or None (use SQLAlchemy)."""
        key = (statement, tuple(row))
        try:
            return self._cache[key]
        except KeyError:
            pass
        prepared = prepare(statement, key[1], self._dialect)
        if len(self._cache) >= self._limit:
            del self._cache[next(iter(self._cache))]
        self._cache[key] = prepared
        return prepared
