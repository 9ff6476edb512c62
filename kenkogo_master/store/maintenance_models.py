"""SQL tables of database care: retentions changed at run time. Times are epoch milliseconds."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from kenkogo_master.store.models import Base


class RetentionOverride(Base):
    """A retention an operator set at run time; it wins over the configured one until removed."""

    __tablename__ = "retention_overrides"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    days: Mapped[float]
    updated_ms: Mapped[int] = mapped_column(BigInteger)
