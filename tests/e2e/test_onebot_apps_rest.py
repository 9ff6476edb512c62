"""POST/GET/DELETE /api/v1/onebot-apps: kept in SQL, secrets never shown, bad input refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningMaster, StartMaster, stop_master

# The discard port, closed on this machine: a bot that is never there.
ABSENT = "ws://127.0.0.1:9/onebot/v11/ws"


async def test_an_added_bot_is_listed_without_its_token_and_survives_a_restart(
    start_master: StartMaster, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    master = await start_master(data_dir=data)
    body = {
        "name": "nonebot",
        "url": ABSENT,
        "access_token": "s3cret-token",
        "priority": 2,
        "block": True,
        "subscribe": {"chats": ["group"], "commands": ["/"]},
        "message_format": "string",
        "accounts": ["10001"],
    }
    status, created = await master.api("POST", "/api/v1/onebot-apps", json=body)
    assert status == 201, created
    assert created["source"] == "api" and created["access_token_set"] is True
    assert "s3cret-token" not in str(created)
    status, audit = await master.api("GET", "/api/v1/audit?action=create_onebot_app")
    assert status == 200 and audit["items"][0]["target"] == created["id"]
    await stop_master(master)

    master = await start_master(data_dir=data)
    status, listing = await master.api("GET", "/api/v1/onebot-apps")
    assert status == 200
    (item,) = listing["items"]
    assert {key: item[key] for key in ("id", "name", "url", "priority", "block")} == {
        "id": created["id"],
        "name": "nonebot",
        "url": ABSENT,
        "priority": 2,
        "block": True,
    }
    assert item["subscribe"] == {"chats": ["group"], "commands": ["/"]}
    assert item["message_format"] == "string" and item["accounts"] == ["10001"]
    assert "s3cret-token" not in str(listing)

    status, _ = await master.api("DELETE", f"/api/v1/onebot-apps/{created['id']}")
    assert status == 200
    status, listing = await master.api("GET", "/api/v1/onebot-apps")
    assert listing["items"] == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"url": ABSENT}, id="no-name"),
        pytest.param({"name": "nb"}, id="no-url"),
        pytest.param({"name": "nb", "url": "http://127.0.0.1:9/"}, id="http-url"),
        pytest.param({"name": "nb", "url": "ws:///no-host"}, id="no-host"),
        pytest.param({"name": "nb", "url": ABSENT, "priority": "high"}, id="bad-priority"),
        pytest.param({"name": "nb", "url": ABSENT, "token": "x"}, id="unknown-key"),
        pytest.param({"name": "nb", "url": ABSENT, "subscribe": {"regex": ["("]}}, id="regex"),
        pytest.param({"name": "nb", "url": ABSENT, "subscribe": {"topics": []}}, id="filter"),
        pytest.param({"name": "nb", "url": ABSENT, "message_format": "xml"}, id="format"),
        pytest.param({"name": "nb", "url": ABSENT, "accounts": ["alice"]}, id="account"),
        pytest.param({"name": " ", "url": ABSENT}, id="blank-name"),
        pytest.param(["nb", ABSENT], id="not-an-object"),
    ],
)
async def test_bad_bots_are_refused_with_400(master: RunningMaster, body: Any) -> None:
    status, answer = await master.api("POST", "/api/v1/onebot-apps", json=body)
    assert status == 400, answer
    assert answer["code"] == "invalid_payload"
    _, listing = await master.api("GET", "/api/v1/onebot-apps")
    assert listing["items"] == []


async def test_the_same_bot_twice_is_a_conflict_and_configured_ones_stay(
    start_master: StartMaster, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[[onebot_apps]]\nname = "configured"\nurl = "{ABSENT}"\n', "utf-8")
    master = await start_master(config=config)
    status, listing = await master.api("GET", "/api/v1/onebot-apps")
    (item,) = listing["items"]
    assert (item["id"], item["source"], item["access_token_set"]) == ("config-0", "config", False)

    same = {"name": "configured", "url": ABSENT}
    status, answer = await master.api("POST", "/api/v1/onebot-apps", json=same)
    assert (status, answer["code"]) == (409, "already_exists")
    status, answer = await master.api("DELETE", "/api/v1/onebot-apps/config-0")
    assert (status, answer["code"]) == (409, "restart_required")
    status, answer = await master.api("DELETE", "/api/v1/onebot-apps/nope")
    assert (status, answer["code"]) == (404, "not_found")


async def test_a_read_token_may_not_see_or_add_bots(master: RunningMaster) -> None:
    status, token = await master.api("POST", "/api/v1/tokens", json={"name": "r", "scope": "read"})
    assert status == 201
    headers = {"Authorization": f"Bearer {token['token']}"}
    for method, json in (("GET", None), ("POST", {"name": "nb", "url": ABSENT})):
        status, answer = await master.api(method, "/api/v1/onebot-apps", json=json, headers=headers)
        assert status == 403 and answer["code"] == "forbidden"
