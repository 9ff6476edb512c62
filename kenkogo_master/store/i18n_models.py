"""SQL tables of translated texts, offered locales and the locales operators set per chat."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kenkogo_master.store.models import Base


class TextEntry(Base):
    """One text of one locale: seeded from the catalogs, or an operator's override of it."""

    __tablename__ = "i18n_texts"

    locale: Mapped[str] = mapped_column(String(35), primary_key=True)
    # A flat key: `error.not_found`, or `template.items_count[1]` for one plural form.
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    # Overridden rows are the operator's: seeding from the catalogs never touches them.
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class OfferedLocale(Base):
    """A locale an operator added; it has no catalog, so its texts fall back until overridden."""

    __tablename__ = "i18n_locales"

    locale: Mapped[str] = mapped_column(String(35), primary_key=True)
    added_ms: Mapped[int] = mapped_column(BigInteger)


class ChatLocale(Base):
    """The locale an operator chose for one chat, ahead of what its events or driver say."""

    __tablename__ = "chat_locales"

    platform: Mapped[str] = mapped_column(String(64), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    locale: Mapped[str] = mapped_column(String(35))
    updated_ms: Mapped[int] = mapped_column(BigInteger)
