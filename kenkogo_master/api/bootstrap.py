"""First-start API token: generated when none is configured, shown once, kept in a 0600 file."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from kenkogo_master.store.tokens import Scope, TokenStore

log = logging.getLogger(__name__)

TOKEN_FILE = "admin-token"


async def ensure_admin_token(tokens: TokenStore, data_dir: Path) -> Path | None:
    """Create an admin token when there is none; return the file that holds it."""
    if not tokens.empty():
        return None
    _, secret = await tokens.create("initial admin token", Scope.ADMIN)
    path = data_dir / TOKEN_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    os.chmod(path, 0o600)
    log.warning("generated an admin API token (shown once): %s — also saved in %s", secret, path)
    return path
