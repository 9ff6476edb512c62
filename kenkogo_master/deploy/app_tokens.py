"""App tokens the supervisor hands to the processes it starts: one per process, in memory.

A started app presents its token when it connects; the Master then knows which deployment the
connection belongs to (ready = `registered` needs that) and lets it in where `[apps]
require_token` is on. A token lives as long as its process: it is made at spawn and forgotten
when the process ends, so a token leaked from an app's environment dies with the app, and none
is ever stored.
"""

from __future__ import annotations

import hmac
import secrets

from kenkogo_master.store.tokens import digest


class AppTokens:
    """Issue, check and forget per-process app tokens (kept as SHA-256 digests)."""

    def __init__(self) -> None:
        self._by_digest: dict[str, str] = {}  # digest -> deployment id
        self._by_deployment: dict[str, str] = {}  # deployment id -> digest

    def issue(self, deployment_id: str) -> str:
        """Return a new token for a deployment's next process (the previous one stops working)."""
        self.forget(deployment_id)
        secret = "kgd_" + secrets.token_urlsafe(32)
        key = digest(secret)
        self._by_digest[key] = deployment_id
        self._by_deployment[deployment_id] = key
        return secret

    def forget(self, deployment_id: str) -> None:
        """Make a deployment's token stop working."""
        key = self._by_deployment.pop(deployment_id, None)
        if key is not None:
            self._by_digest.pop(key, None)

    def check(self, presented: object) -> str | None:
        """Return the deployment a presented token belongs to, or None."""
        if not isinstance(presented, str) or not presented.startswith("kgd_"):
            return None
        key = digest(presented)
        deployment_id = self._by_digest.get(key)
        if deployment_id is None:
            return None
        # The dict lookup found it by digest; compare again in constant time all the same.
        known = self._by_deployment[deployment_id]
        return deployment_id if hmac.compare_digest(known, key) else None
