"""The audit trail over REST: a row for every state-changing action, filters, pages, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from kenkogo_master.ids import now_ms
from tests.conftest import RunningMaster
from tests.support.flow_clients import FlowApp

ACTOR = {"kind": "token", "id": "config", "name": "api.token"}


async def audit(master: RunningMaster, **query: str) -> list[dict[str, Any]]:
    """Return the audit rows that match, newest first."""
    status, body = await master.api("GET", "/api/v1/audit", params={"limit": "500", **query})
    assert status == 200, body
    assert body["count"] == len(body["items"])
    rows: list[dict[str, Any]] = body["items"]
    return rows


async def test_every_state_changing_action_leaves_a_row(master: RunningMaster) -> None:
    app = FlowApp(master.url, lambda message: {"reply": "hi"})
    await app.connect()
    registered = await app.register("echo")
    assert (await app.next_state())["state"] == "scheduling"
    instance = registered["id"]
    calls: list[tuple[str, str, dict[str, Any] | None, str, str]] = [
        ("POST", f"/api/v1/apps/{instance}/pause", None, "pause_app", instance),
        ("POST", f"/api/v1/apps/{instance}/resume", None, "resume_app", instance),
        ("POST", "/api/v1/app-names/echo/hold", None, "hold_name", "echo"),
        ("POST", "/api/v1/app-names/echo/release", None, "release_name", "echo"),
        (
            "PUT",
            "/api/v1/i18n/texts/ja/error.not_found",
            {"text": "ない"},
            "put_text",
            "ja/error.not_found",
        ),
        (
            "DELETE",
            "/api/v1/i18n/texts/ja/error.not_found",
            None,
            "delete_text",
            "ja/error.not_found",
        ),
        ("POST", "/api/v1/i18n/locales", {"locale": "fr"}, "add_locale", ""),
        ("DELETE", "/api/v1/i18n/locales/fr", None, "remove_locale", "fr"),
        ("PUT", "/api/v1/chats/qq/42/locale", {"locale": "ja"}, "put_chat_locale", "qq/42"),
        ("DELETE", "/api/v1/chats/qq/42/locale", None, "delete_chat_locale", "qq/42"),
        ("POST", "/api/v1/simulate", {"content": "hello", "wait_ms": 300}, "simulate", ""),
        ("POST", f"/api/v1/apps/{instance}/kick", None, "kick_app", instance),
    ]
    started = now_ms()
    for method, path, json, action, target in calls:
        status, body = await master.api(method, path, json=json)
        assert status in (200, 201), (path, body)
        [row] = await audit(master, action=action)
        assert row["actor"] == ACTOR and row["result"] == "ok", row
        assert row["target"] == (target or body.get("id") or body.get("locale")), row
        assert row["address"] == "127.0.0.1"
        assert row["detail"] == {"method": method, "path": path, "status": status}
        assert started <= row["time_ms"] <= now_ms()
    await app.close()

    for kind in ("tokens", "driver-tokens"):
        status, created = await master.api("POST", f"/api/v1/{kind}", json={"name": "n"})
        assert status == 201
        status, _ = await master.api("DELETE", f"/api/v1/{kind}/{created['id']}")
        assert status == 200
        singular = kind.replace("-", "_")[:-1]
        [made] = await audit(master, action=f"create_{singular}")
        [gone] = await audit(master, action=f"delete_{singular}")
        assert made["target"] == gone["target"] == created["id"]
        assert created["token"] not in str(made)  # a secret is never kept

    # A refused change is audited with its error code, and GETs are not audited at all.
    status, _ = await master.api("POST", "/api/v1/apps/nope/pause")
    assert status == 404
    [refused] = await audit(master, action="pause_app", target="nope")
    assert refused["result"] == "not_found"
    assert await audit(master, action="list_apps") == []


async def test_the_trail_is_filtered_and_paged_newest_first(master: RunningMaster) -> None:
    for name in ("a", "b", "c", "d", "e"):
        await master.api("POST", f"/api/v1/app-names/{name}/hold")
    rows = await audit(master, action="hold_name")
    assert [row["target"] for row in rows] == ["e", "d", "c", "b", "a"]
    assert await audit(master, target="c") == [rows[2]]
    assert len(await audit(master, actor="api.token")) >= 5
    assert await audit(master, actor="someone-else") == []
    middle = rows[2]["time_ms"]
    assert all(row["time_ms"] >= middle for row in await audit(master, **{"from": str(middle)}))
    assert all(row["time_ms"] < middle for row in await audit(master, to=str(middle)))

    pages, cursor = [], None
    while True:
        query = {"action": "hold_name", "limit": "2"} | ({"cursor": cursor} if cursor else {})
        status, page = await master.api("GET", "/api/v1/audit", params=query)
        assert status == 200
        pages.append([row["target"] for row in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [["e", "d"], ["c", "b"], ["a"]]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "many"},
        {"from": "yesterday"},
        {"to": "-5"},
        {"action": ""},
        {"actor": "x" * 101},
        {"cursor": "x" * 33},
        {"who": "me"},
    ],
)
async def test_bad_queries_are_refused(master: RunningMaster, query: dict[str, str]) -> None:
    status, body = await master.api("GET", "/api/v1/audit", params=query)
    assert status == 400 and body["code"] == "invalid_payload", body


async def test_only_admins_read_the_trail(master: RunningMaster) -> None:
    status, created = await master.api("POST", "/api/v1/tokens", json={"name": "ro"})
    assert status == 201
    async with master.http.get(
        master.url + "/api/v1/audit", headers=master.auth(created["token"])
    ) as response:
        assert response.status == 403
    async with master.http.get(master.url + "/api/v1/audit") as response:
        assert response.status == 401
