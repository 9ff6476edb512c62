"""Start the admin services of one Master (a cleanup context for app.py)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from kenkogo_master.admin.accounts import Accounts
from kenkogo_master.admin.audit import AuditLog
from kenkogo_master.admin.bootstrap import ensure_admin_account
from kenkogo_master.admin.passwords import Passwords
from kenkogo_master.admin.sessions import Sessions
from kenkogo_master.admin.throttle import LoginThrottle
from kenkogo_master.keys import (
    ACCOUNTS,
    AUDIT,
    ENGINE,
    LIVE_STREAMS,
    LOGIN_THROTTLE,
    SESSIONS,
    SETTINGS,
    WRITER,
)

log = logging.getLogger(__name__)


async def admin_context(app: web.Application) -> AsyncIterator[None]:
    """Open accounts, sessions and the audit trail; make the first account on first start."""
    settings = app[SETTINGS]
    engine, writer = app[ENGINE], app[WRITER]
    passwords = Passwords(settings.admin)
    accounts = Accounts(engine, passwords, settings.admin.min_password_length)
    audit = AuditLog(engine, writer)
    sessions = Sessions(engine, writer, settings.admin)
    # An event stream opened with a session ends with it.
    sessions.on_end(app[LIVE_STREAMS].end_owned)
    pruned = await sessions.prune()
    if pruned:
        log.info("removed %d expired sessions", pruned)
    await ensure_admin_account(accounts, audit, settings.storage.data_dir)
    await passwords.prepare()
    app[ACCOUNTS] = accounts
    app[SESSIONS] = sessions
    app[AUDIT] = audit
    app[LOGIN_THROTTLE] = LoginThrottle(settings.admin)
    yield
