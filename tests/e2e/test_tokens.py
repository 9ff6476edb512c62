"""API tokens over REST: scopes, a secret shown once, deletion and the last-used time."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import RunningMaster, StartMaster, stop_master


async def _create(master: RunningMaster, name: str, scope: str) -> dict[str, object]:
    status, body = await master.api("POST", "/api/v1/tokens", json={"name": name, "scope": scope})
    assert status == 201, body
    return body  # type: ignore[no-any-return]


async def test_read_token_reads_but_cannot_change_state(master: RunningMaster) -> None:
    created = await _create(master, "dashboard", "read")
    secret = str(created["token"])
    assert created["scope"] == "read" and created["name"] == "dashboard"

    status, body = await master.api("GET", "/api/v1/apps", headers=master.auth(secret))
    assert status == 200 and body["count"] == 0

    status, body = await master.api(
        "POST", "/api/v1/tokens", json={"name": "x"}, headers=master.auth(secret)
    )
    assert (status, body["code"]) == (403, "forbidden")
    status, body = await master.api("GET", "/api/v1/tokens", headers=master.auth(secret))
    assert (status, body["code"]) == (403, "forbidden")


async def test_listing_never_shows_secrets_and_delete_revokes(master: RunningMaster) -> None:
    created = await _create(master, "ci", "admin")
    secret = str(created["token"])
    status, body = await master.api("GET", "/api/v1/tokens")
    assert status == 200
    listed = {item["id"]: item for item in body["items"]}
    assert listed[created["id"]]["name"] == "ci"
    assert all("token" not in item and "token_hash" not in item for item in body["items"])
    assert secret not in str(body)

    status, _ = await master.api("GET", "/api/v1/tokens", headers=master.auth(secret))
    assert status == 200
    status, body = await master.api("DELETE", f"/api/v1/tokens/{created['id']}")
    assert (status, body["deleted"]) == (200, True)
    status, body = await master.api("GET", "/api/v1/apps", headers=master.auth(secret))
    assert (status, body["code"]) == (401, "unauthorized")
    status, body = await master.api("DELETE", f"/api/v1/tokens/{created['id']}")
    assert (status, body["code"]) == (404, "not_found")


async def test_bad_create_bodies_are_400(master: RunningMaster) -> None:
    for body in ({"name": "x", "scope": "root"}, {"name": ""}, {"scope": "read"}, [1]):
        status, answer = await master.api("POST", "/api/v1/tokens", json=body)
        assert (status, answer["code"]) == (400, "invalid_payload"), body
    status, answer = await master.api("POST", "/api/v1/tokens", data=b"{nope")
    assert (status, answer["code"]) == (400, "invalid_json")


async def test_last_use_is_shown_at_once_and_saved(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master = await start_master(tmp_path / "data")
    created = await _create(master, "probe", "read")
    assert created["last_used_ms"] is None
    await master.api("GET", "/api/v1/apps", headers=master.auth(str(created["token"])))
    _, body = await master.api("GET", "/api/v1/tokens")
    used = next(item for item in body["items"] if item["id"] == created["id"])["last_used_ms"]
    assert isinstance(used, int) and used >= created["created_ms"]
    await stop_master(master)

    again = await start_master(tmp_path / "data")
    _, body = await again.api("GET", "/api/v1/tokens")
    saved = next(item for item in body["items"] if item["id"] == created["id"])
    assert saved["last_used_ms"] == used
