"""Statements compiled once to the driver's SQL, so a group of rows skips SQLAlchemy per row.

SQLAlchemy's `execute(statement, rows)` builds, for every row, a parameter dict through the
compiled statement (about 25 us a row on SQLite, ten times what SQLite itself takes to insert
it). A prepared statement does that work once per shape of row: it keeps the driver-level SQL
and the order of its parameters, and turns each row into a tuple for the driver's executemany,
applying the same type conversions (JSON, booleans) the dialect would.

A caller that writes many rows of one statement at once can hand them over already as tuples
(`shaped`): one writer entry, one future and one executemany for the lot, no dict per row.
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
# The only key of a parameter dict that carries shaped rows.
SHAPED = "__shaped_rows__"

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


@dataclass(frozen=True, slots=True)
class ShapedRows:
    """Rows of one statement as tuples of plain values, in the order of `columns`."""

    columns: tuple[str, ...]
    rows: Sequence[tuple[Any, ...]]


def shaped(columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> dict[str, Any]:
    """Return the parameters of one writer entry that writes all `rows` (see `prepare_shaped`)."""
    return {SHAPED: ShapedRows(columns, rows)}


@dataclass(frozen=True, slots=True)
class PreparedShaped:
    """A prepared statement fed with shaped rows: reordered and converted column by column."""

    prepared: Prepared
    columns: tuple[str, ...]
    order: tuple[int, ...] | None  # where each parameter is in a shaped row; None: the same
    conversions: tuple[tuple[int, Convert], ...]  # (parameter index, converter)

    @property
    def sql(self) -> str:
        """Return the driver SQL."""
        return self.prepared.sql

    def tuples(self, entries: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Return the driver parameters of every row of every entry, in order."""
        out: list[tuple[Any, ...]] = []
        order, conversions = self.order, self.conversions
        for entry in entries:
            batch: ShapedRows = entry[SHAPED]
            if batch.columns != self.columns:
                raise ValueError(
                    f"shaped rows of {batch.columns} fed to a statement of {self.columns}"
                )
            rows = batch.rows
            if order is not None:
                rows = [tuple([row[index] for index in order]) for row in rows]
            if not conversions:
                out.extend(rows)
                continue
            for row in rows:
                values = list(row)
                for index, convert in conversions:
                    values[index] = convert(values[index])
                out.append(tuple(values))
        return out


def prepare_shaped(
    statement: Executable, columns: Sequence[str], dialect: Dialect
) -> PreparedShaped | None:
    """Compile `statement` for shaped rows of `columns`; None when it cannot take them.

    A caller checks this once before it hands shaped rows to the writer, which runs them
    through the same compiled form.
    """
    prepared = prepare(statement, columns, dialect)
    if prepared is None or set(prepared.names) != set(columns):
        return None
    columns = tuple(columns)
    order = None if prepared.names == columns else tuple(map(columns.index, prepared.names))
    conversions = tuple(
        (index, convert) for index, convert in enumerate(prepared.converters) if convert is not None
    )
    return PreparedShaped(prepared, columns, order, conversions)


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
        self._cache: dict[tuple[Executable, tuple[str, ...]], Prepared | PreparedShaped | None] = {}

    def get(self, statement: Executable, row: dict[str, Any]) -> Prepared | PreparedShaped | None:
        """Return the prepared form for rows shaped like `row`, or None (use SQLAlchemy)."""
        batch = row.get(SHAPED)
        keys = tuple(row) if batch is None else (SHAPED, *batch.columns)
        key = (statement, keys)
        try:
            return self._cache[key]
        except KeyError:
            pass
        prepared: Prepared | PreparedShaped | None
        if batch is None:
            prepared = prepare(statement, keys, self._dialect)
        else:
            prepared = prepare_shaped(statement, batch.columns, self._dialect)
        if len(self._cache) >= self._limit:
            del self._cache[next(iter(self._cache))]
        self._cache[key] = prepared
        return prepared
