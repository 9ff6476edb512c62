"""What the settings answer shows of secrets: whether they are set, and URLs without them."""

from __future__ import annotations

import pytest

from kenkogo_master.admin.runtime_settings import KEYS, MASK, mask_url, masked
from kenkogo_master.store.retention import POLICIES


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+asyncpg://kenkogo:s3cret@db.local:5432/kenkogo",
            f"postgresql+asyncpg://kenkogo:{MASK}@db.local:5432/kenkogo",
        ),
        (
            "postgresql+asyncpg://db.local/kenkogo?password=s3cret&sslmode=require",
            f"postgresql+asyncpg://db.local/kenkogo?password={MASK}&sslmode=require",
        ),
        ("sqlite+aiosqlite:////srv/data/kenkogo.db", "sqlite+aiosqlite:////srv/data/kenkogo.db"),
        (
            "http://u:p%40ss@collector:4318/v1/traces?api_key=abc",
            f"http://u:{MASK}@collector:4318/v1/traces?api_key={MASK}",
        ),
        ("http://user@collector/v1", "http://user@collector/v1"),
        ("http://[::1/broken?token=x", MASK),
        (
            "sqlite+aiosqlite:////srv/kenkogo.db?password=x&mode=ro",
            f"sqlite+aiosqlite:////srv/kenkogo.db?password={MASK}&mode=ro",
        ),
    ],
)
def test_urls_keep_everything_but_their_secrets(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_secrets_say_only_whether_they_are_set() -> None:
    assert masked("api.token", "a-long-admin-token") == MASK
    assert masked("api.token", None) is None
    assert masked("drivers.tokens", ["a", "b"]) == [MASK, MASK]
    assert masked("drivers.tokens", []) == []
    assert masked("storage.database_url", None) is None
    assert masked("apps.ack_timeout", 3.0) == 3.0


def test_retentions_change_at_run_time_through_their_own_store() -> None:
    for policy in POLICIES:
        key = KEYS[policy.setting]
        assert key.runtime and key.retention == policy.name
    assert not KEYS["retention.interval"].runtime
    assert not KEYS["server.port"].runtime and KEYS["server.port"].retention is None
