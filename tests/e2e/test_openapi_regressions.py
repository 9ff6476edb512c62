"""Inputs the schemathesis run once answered with 500: each must now be a 4xx `{code, message}`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RunningMaster


async def refused(master: RunningMaster, method: str, path: str, **kwargs: Any) -> dict[str, str]:
    """Call the API and return the body of a 400; fail on anything else."""
    status, body = await master.api(method, path, **kwargs)
    assert status == 400, body
    assert body["code"] == "invalid_payload" and body["message"], body
    return dict(body)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/traces?to=3225-11-20T10:25:51Z",
        "/api/v1/traces?from=9999999999999999",
        "/api/v1/messages?from=99999999999999999999",
        "/api/v1/messages?to=-1",
        "/api/v1/stats/top-senders?to=9999-12-31T23:59:59Z",
    ],
)
async def test_times_beyond_2200_or_before_1970_are_refused(
    master: RunningMaster, path: str
) -> None:
    body = await refused(master, "GET", path)
    assert "1970" in body["message"] and "2200" in body["message"], body


async def test_a_long_query_is_refused_by_validation_not_by_the_http_parser(
    master: RunningMaster,
) -> None:
    # 2000 four-byte characters: 24 000 bytes once percent-encoded, over aiohttp's 8190 default.
    body = await refused(master, "GET", "/api/v1/events", params={"topics": "𝄞" * 2000})
    assert "topics" in body["message"], body


async def test_a_wrong_method_is_405_with_the_allowed_ones(master: RunningMaster) -> None:
    async with master.http.request(
        "DELETE", master.url + "/api/v1/apps", headers=master.auth()
    ) as response:
        body = await response.json()
        allow = response.headers.get("Allow", "")
    assert response.status == 405
    assert body["code"] == "method_not_allowed" and "DELETE" in body["message"], body
    assert "GET" in allow.split(", "), allow
