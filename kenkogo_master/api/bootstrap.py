"""First-start API token: generated when none is configured, shown once, kept in a 0600 file."""

from __future__ import annotations

import logging
from pathlib import Path

from kenkogo_master.admin.bootstrap import show_on_console, write_secret
from kenkogo_master.observability.logs import record_factory
from kenkogo_master.store.tokens import Scope, TokenStore

log = logging.getLogger(__name__)

TOKEN_FILE = "admin-token"


async def ensure_admin_token(tokens: TokenStore, data_dir: Path) -> Path | None:
    """Create an admin token when there is none; return the file that holds it."""
    if not tokens.empty():
        return None
    _, secret = await tokens.create("initial admin token", Scope.ADMIN)
    record_factory().redactor.add_secrets([secret])  # masked should it ever reach a record
    path = data_dir / TOKEN_FILE
    write_secret(path, secret)
    # On the console only: a secret in the log would outlive its file in every rotated copy.
    show_on_console(f"KenkoGo Master: generated an admin API token (shown once): {secret}")
    log.warning("generated an admin API token; it is in %s", path)
    return path
