"""Every answer carries the headers that keep browsers from framing, sniffing or leaking it."""

from __future__ import annotations

import pytest

from tests.conftest import RunningMaster

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
CSP_DIRECTIVES = {
    "default-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
}


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/", {}, 200),  # the panel
        ("/api/v1/docs", {}, 200),  # Swagger UI
        ("/api/v1/apps", {"Authorization": "Bearer test-admin-token"}, 200),  # JSON
        ("/api/v1/apps", {}, 401),  # a refusal
        ("/api/v1/no-such-thing", {"Authorization": "Bearer test-admin-token"}, 404),
        ("/api/v1/openapi.json", {}, 200),
        ("/health", {}, 200),
        ("/metrics", {}, 200),
        ("/static/js/main.js", {}, 200),
        ("/socket.io/?EIO=4&transport=polling", {"Origin": "https://evil.example"}, 403),
        ("/ws", {"Origin": "https://evil.example"}, 403),
    ],
)
async def test_security_headers_on_every_kind_of_answer(
    master: RunningMaster, path: str, headers: dict[str, str], status: int
) -> None:
    async with master.http.get(master.url + path, headers=headers) as resp:
        assert resp.status == status
        for name, value in EXPECTED.items():
            assert resp.headers.get(name) == value, (path, name)
        policy = resp.headers["Content-Security-Policy"]
        directives = {part.strip() for part in policy.split(";")}
        assert directives >= CSP_DIRECTIVES, policy
        # No inline script, no eval, nothing from elsewhere.
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "*" not in policy
        assert "Strict-Transport-Security" not in resp.headers  # plain HTTP: it would be ignored
