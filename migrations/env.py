"""Alembic environment: runs on the connection the Master hands over (see store/migrate.py)."""

from __future__ import annotations

from alembic import context

from kenkogo_master.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations with `python main.py migrate`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite can only alter tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
