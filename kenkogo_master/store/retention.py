"""Retention in one place: what each policy prunes, its configured days and run-time overrides."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import QueryableAttribute

from kenkogo_master.ids import now_ms
from kenkogo_master.settings import Settings
from kenkogo_master.store.admin_models import AdminSession, AuditRow
from kenkogo_master.store.maintenance_models import RetentionOverride
from kenkogo_master.store.models import Base, DeliveryRow, MessageRow, ReplyRow
from kenkogo_master.store.observability_models import (
    StatsCounter,
    StatsMessages,
    TraceSpan,
    TraceSummary,
)
from kenkogo_master.store.writer import Writer

DAY_MS = 86_400_000
NS_PER_MS = 1_000_000


def table_of(model: type[Base]) -> Table:
    """Return a model's table."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


@dataclass(frozen=True, slots=True)
class Target:
    """One table a policy prunes: the rows whose `column` is older than the cutoff."""

    table: Table
    column: QueryableAttribute[int]
    scale: int = 1  # units of `column` per millisecond: 1 for *_ms, NS_PER_MS for *_ns
    where: ColumnElement[bool] | None = None
    # Rows of other tables that belong to a pruned row: (table, its column naming the row's key).
    # They go in the same transaction, first, and are counted on their own.
    children: tuple[tuple[Table, QueryableAttribute[Any]], ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    """A retention: its name on the API, the setting that holds its default, what it prunes."""

    name: str
    section: str  # the config section and key of the configured days
    key: str
    targets: tuple[Target, ...]
    description: str

    @property
    def setting(self) -> str:
        """Return the configuration key, as `section.key`."""
        return f"{self.section}.{self.key}"

    def configured(self, settings: Settings) -> float:
        """Return the days the configuration gives."""
        return float(getattr(getattr(settings, self.section), self.key))


def _stats(period: str) -> Policy:
    """Return the policy of one bucket size: both bucket tables, that period's rows only."""
    return Policy(
        f"stats_{period}",
        "stats",
        f"{period}_retention_days",
        (
            Target(
                table_of(StatsCounter), StatsCounter.bucket_ms, where=StatsCounter.period == period
            ),
            Target(
                table_of(StatsMessages),
                StatsMessages.bucket_ms,
                where=StatsMessages.period == period,
            ),
        ),
        f"statistics buckets of one {period}",
    )


# Every table that grows without bound and how long its rows stay. A new kind of row is one
# entry here — the API, the schedule and the reports follow.
POLICIES: tuple[Policy, ...] = (
    Policy(
        "messages",
        "retention",
        "messages_days",
        (
            # A message still being scheduled stays until it settles, however old.
            Target(
                table_of(MessageRow),
                MessageRow.received_ms,
                where=MessageRow.status != "pending",
                children=(
                    (table_of(DeliveryRow), DeliveryRow.message_id),
                    (table_of(ReplyRow), ReplyRow.message_id),
                ),
            ),
            # Sends an app made on its own belong to no message.
            Target(table_of(ReplyRow), ReplyRow.created_ms, where=ReplyRow.message_id.is_(None)),
        ),
        "messages with their deliveries and replies",
    ),
    Policy(
        "traces",
        "traces",
        "retention_days",
        (
            Target(table_of(TraceSpan), TraceSpan.start_ns, scale=NS_PER_MS),
            Target(table_of(TraceSummary), TraceSummary.end_ns, scale=NS_PER_MS),
        ),
        "trace spans and trace summaries",
    ),
    _stats("minute"),
    _stats("hour"),
    _stats("day"),
    Policy(
        "audit",
        "retention",
        "audit_days",
        (Target(table_of(AuditRow), AuditRow.time_ms),),
        "the audit trail",
    ),
    Policy(
        "sessions",
        "retention",
        "sessions_days",
        (Target(table_of(AdminSession), AdminSession.last_seen_ms),),
        "admin sessions, by their last use (long expired by then)",
    ),
)
BY_NAME: Mapping[str, Policy] = {policy.name: policy for policy in POLICIES}

Listener = Callable[[str, float], None]


class Retention:
    """The days each policy keeps: configured, or overridden at run time and kept in SQL."""

    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        writer: Writer,
        policies: tuple[Policy, ...] = POLICIES,
    ) -> None:
        self.policies = policies
        self._by_name = {policy.name: policy for policy in policies}
        self._configured = {policy.name: policy.configured(settings) for policy in policies}
        self._overrides: dict[str, float] = {}
        self._updated_ms: dict[str, int] = {}
        self._engine = engine
        self._writer = writer
        self._listeners: list[Listener] = []

    async def load(self) -> None:
        """Read the overrides; those of policies no longer known are ignored."""
        async with self._engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(
                        RetentionOverride.name,
                        RetentionOverride.days,
                        RetentionOverride.updated_ms,
                    )
                )
            ).all()
        self._overrides = {name: days for name, days, _ in rows if name in self._by_name}
        self._updated_ms = {name: at for name, _, at in rows if name in self._by_name}
        for name in self._overrides:
            self._notify(name)

    def listen(self, listener: Listener) -> None:
        """Call `listener(name, days)` whenever a policy's days change (and once per override)."""
        self._listeners.append(listener)

    def days(self, name: str) -> float:
        """Return the days a policy keeps now."""
        return self._overrides.get(name, self._configured[name])

    def updated_ms(self, name: str) -> int | None:
        """Return when a policy's days were set at run time (None: they are the configured)."""
        return self._updated_ms.get(name)

    def cutoff_ms(self, name: str, now: int) -> int:
        """Return the time before which a policy's rows go."""
        return now - int(self.days(name) * DAY_MS)

    def describe(self) -> list[dict[str, Any]]:
        """Return every policy with its days, where they come from and the tables it prunes."""
        return [
            {
                "name": policy.name,
                "days": self.days(policy.name),
                "configured_days": self._configured[policy.name],
                "overridden": policy.name in self._overrides,
                "setting": policy.setting,
                "description": policy.description,
                "tables": sorted(
                    {target.table.name for target in policy.targets}
                    | {child.name for target in policy.targets for child, _ in target.children}
                ),
            }
            for policy in self.policies
        ]

    async def update(self, changes: Mapping[str, float | None]) -> None:
        """Set (a number) or drop (None: back to the configuration) overrides, kept in SQL."""
        for name in changes:
            if name not in self._by_name:
                raise KeyError(name)
        at = now_ms()
        for name, days in changes.items():
            await self._writer.write(
                delete(RetentionOverride).where(RetentionOverride.name == name), {}
            )
            if days is None:
                self._overrides.pop(name, None)
                self._updated_ms.pop(name, None)
            else:
                await self._writer.write(
                    insert(RetentionOverride), {"name": name, "days": days, "updated_ms": at}
                )
                self._overrides[name] = days
                self._updated_ms[name] = at
            self._notify(name)

    def _notify(self, name: str) -> None:
        for listener in self._listeners:
            listener(name, self.days(name))
