"""The REST API's edges: tokens, bad queries, unknown routes, oversized bodies, /health."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.texts import shown_text

APP_ROUTES = [
    ("GET", "/api/v1/apps"),
    ("GET", "/api/v1/apps/01someid000000000000000000"),
    ("POST", "/api/v1/apps/01someid000000000000000000/pause"),
    ("POST", "/api/v1/apps/01someid000000000000000000/resume"),
    ("POST", "/api/v1/apps/01someid000000000000000000/kick"),
    ("GET", "/api/v1/app-names"),
    ("POST", "/api/v1/app-names/weather/hold"),
    ("POST", "/api/v1/app-names/weather/release"),
]


async def call(master: Any, method: str, path: str, **kwargs: Any) -> tuple[int, Any, Any]:
    """Call without the admin token; return status, JSON body and headers."""
    async with master.http.request(method, master.url + path, **kwargs) as response:
        return response.status, await response.json(), response.headers


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-token"),
        pytest.param({"Authorization": "Bearer not-the-token"}, id="wrong-token"),
        pytest.param({"Authorization": "Bearer "}, id="empty-token"),
        pytest.param({"Authorization": "Basic dGVzdC1hZG1pbi10b2tlbg=="}, id="wrong-scheme"),
        pytest.param({"Authorization": "test-admin-token"}, id="no-scheme"),
    ],
)
async def test_every_app_route_refuses_without_the_right_token(
    master: Any, headers: dict[str, str]
) -> None:
    expected = {"code": "unauthorized", "message": shown_text(master, "error.unauthorized")}
    for method, path in APP_ROUTES:
        status, body, response_headers = await call(master, method, path, headers=headers)

        assert (status, body) == (401, expected), (method, path)
        assert response_headers["WWW-Authenticate"].startswith("Bearer")


async def test_refused_calls_change_nothing(master: Any) -> None:
    await call(master, "POST", "/api/v1/app-names/weather/hold")

    _, names = await master.api("GET", "/api/v1/app-names")

    assert names["items"] == []


async def test_configured_token_is_accepted_in_any_scheme_case(master: Any) -> None:
    status, body, _ = await call(
        master, "GET", "/api/v1/apps", headers={"Authorization": "bearer test-admin-token"}
    )

    assert (status, body) == (200, {"items": [], "count": 0})


async def test_health_needs_no_token(master: Any) -> None:
    status, body, headers = await call(master, "GET", "/health")

    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert body["status"] == "ok"
    assert isinstance(body["version"], str)


@pytest.mark.parametrize(
    ("query", "mention"),
    [
        ("state=bogus", "state"),
        ("state=", "state"),
        ("name=" + "n" * 65, "name"),
        ("colour=blue", "colour"),
    ],
)
async def test_bad_query_is_400(master: Any, query: str, mention: str) -> None:
    status, body = await master.api("GET", f"/api/v1/apps?{query}")

    assert status == 400
    assert body["code"] == "invalid_payload"
    assert mention in body["message"]


async def test_hold_of_a_name_too_long_is_400(master: Any) -> None:
    status, body = await master.api("POST", "/api/v1/app-names/" + "n" * 65 + "/hold")

    assert status == 400
    assert body["code"] == "invalid_payload"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/nope"),
        ("GET", "/api/v1/apps/some-id/history/extra"),
        ("POST", "/api/v1/apps/some-id/explode"),
        ("GET", "/api/v2/apps"),
    ],
)
async def test_unknown_route_is_a_json_404(master: Any, method: str, path: str) -> None:
    status, body = await master.api(method, path)

    assert status == 404
    assert body["code"] == "not_found"
    assert body["message"]


@pytest.mark.parametrize(
    "path", ["/api/v1/app-names/weather/hold", "/api/v1/apps/01someid000000000000000000/pause"]
)
async def test_oversized_body_is_413(start_master: Any, path: str) -> None:
    master = await start_master(limits__max_payload="1024")

    status, body = await master.api(
        "POST",
        path,
        data=b'{"x": "' + b"x" * 4096 + b'"}',
        headers={"Content-Type": "application/json"},
    )

    assert status == 413
    assert body["code"] == "payload_too_large"
    assert "1,024" in body["message"]


async def test_errors_follow_accept_language(master: Any) -> None:
    status, body = await master.api(
        "GET", "/api/v1/apps/01someid000000000000000000", headers={"Accept-Language": "zh-Hans"}
    )

    assert status == 404
    assert body == {"code": "not_found", "message": "未找到"}
