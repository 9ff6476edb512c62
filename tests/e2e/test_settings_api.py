"""GET/PATCH /api/v1/settings over a real server: sources, masked secrets, changes that take
effect at once, survive a restart and are audited, and refusals that change nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from kenkogo_master.keys import TELEMETRY
from tests.conftest import ADMIN_TOKEN, RunningMaster, StartMaster, stop_master
from tests.support.flow_clients import SioDriver, start_app
from tests.support.waiting import eventually

DRIVER_SECRETS = ("file-driver-secret-one", "file-driver-secret-two")
ONEBOT_SECRET = "file-onebot-secret"
METRICS_SECRET = "file-metrics-secret"
APP_SECRET = "env-app-secret"
OTLP_PASSWORD = "otlp-password-secret"
OTLP_TOKEN = "otlp-query-token-secret"
SECRETS = (*DRIVER_SECRETS, ONEBOT_SECRET, METRICS_SECRET, APP_SECRET, ADMIN_TOKEN)
SECRETS += (OTLP_PASSWORD, OTLP_TOKEN)
CONFIG = f"""
[drivers]
tokens = ["{DRIVER_SECRETS[0]}", "{DRIVER_SECRETS[1]}"]
reply_wait = 12.5

[onebot]
access_token = "{ONEBOT_SECRET}"

[metrics]
token = "{METRICS_SECRET}"

[apps]
ack_timeout = 7.0
max_attempts = 4

[limits]
max_payload = 100000

[traces]
# No exporter runs: the endpoint is here to be masked.
enabled = false
otlp_endpoint = "http://collector:{OTLP_PASSWORD}@127.0.0.1:9/v1/traces?token={OTLP_TOKEN}&x=1"
"""
MASK = "********"


def config_file(tmp_path: Path) -> Path:
    """Write the test's config file."""
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


async def raw(master: RunningMaster, method: str, path: str, **kwargs: Any) -> tuple[int, str]:
    """Call the API with the admin token; return the status and the body as text."""
    async with master.http.request(
        method, master.url + path, headers=master.auth(), **kwargs
    ) as response:
        return response.status, await response.text()


def by_key(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Index a settings answer's items by key."""
    return {item["key"]: item for item in body["items"]}


async def settings_of(master: RunningMaster) -> dict[str, dict[str, Any]]:
    """GET /api/v1/settings, by key."""
    status, body = await master.api("GET", "/api/v1/settings")
    assert status == 200, body
    return by_key(body)


async def audit_rows(master: RunningMaster, action: str) -> list[dict[str, Any]]:
    """Return the audit rows of one action, newest first."""
    status, body = await master.api("GET", "/api/v1/audit", params={"action": action})
    assert status == 200, body
    rows: list[dict[str, Any]] = body["items"]
    return rows


async def test_every_key_is_shown_with_its_source_and_no_secret_ever_appears(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master = await start_master(
        config=config_file(tmp_path),
        apps__tokens=f'["{APP_SECRET}"]',
        apps__max_attempts="3",  # the environment wins over the file
    )
    status, text = await raw(master, "GET", "/api/v1/settings")
    assert status == 200
    for secret in SECRETS:
        assert secret not in text, secret
    status, body = await master.api("GET", "/api/v1/settings")
    assert body["config_file"] == str(tmp_path / "config.toml")
    items = by_key(body)
    assert body["total"] == len(items) > 80
    assert list(items)[:2] == ["server.host", "server.port"]
    assert items["apps.ack_timeout"] == {
        "key": "apps.ack_timeout",
        "section": "apps",
        "name": "ack_timeout",
        "value": 7.0,
        "source": "file",
        "configured": 7.0,
        "configured_source": "file",
        "default": 10.0,
        "runtime": True,
        "secret": False,
        "retention": None,
        "updated_ms": None,
    }
    assert (items["apps.max_attempts"]["value"], items["apps.max_attempts"]["source"]) == (3, "env")
    assert (items["limits.max_payload"]["value"], items["limits.max_payload"]["source"]) == (
        100_000,
        "file",
    )
    assert (items["apps.queue_limit"]["value"], items["apps.queue_limit"]["source"]) == (
        10_000,
        "default",
    )
    assert items["storage.data_dir"]["source"] == "env"
    assert items["storage.data_dir"]["value"] == str(tmp_path / "data")
    assert items["server.port"]["runtime"] is False
    # Secrets: only whether they are set (and how many); URLs keep everything but the secret.
    secrets = {key: item for key, item in items.items() if item["secret"]}
    assert set(secrets) == {
        "api.token",
        "drivers.tokens",
        "apps.tokens",
        "onebot.access_token",
        "metrics.token",
    }
    assert (items["api.token"]["value"], items["api.token"]["source"]) == (MASK, "env")
    assert items["drivers.tokens"]["value"] == [MASK, MASK]
    assert items["drivers.tokens"]["configured"] == [MASK, MASK]
    assert items["apps.tokens"]["value"] == [MASK]
    assert items["onebot.access_token"]["value"] == MASK
    assert items["metrics.token"]["value"] == MASK
    assert all(item["runtime"] is False for item in secrets.values())
    assert items["traces.otlp_endpoint"]["value"] == (
        f"http://collector:{MASK}@127.0.0.1:9/v1/traces?token={MASK}&x=1"
    )
    # Retentions are the same ones /api/v1/db/retention shows and changes.
    assert items["retention.messages_days"]["retention"] == "messages"
    assert items["stats.minute_retention_days"]["retention"] == "stats_minute"
    assert items["retention.messages_days"]["runtime"] is True

    # A change answers every key again: still nothing secret in it, nor in the audit trail.
    status, text = await raw(
        master, "PATCH", "/api/v1/settings", json={"apps.ack_timeout": 2, "api.token": "x" * 12}
    )
    assert status == 409
    status, text = await raw(master, "PATCH", "/api/v1/settings", json={"apps.ack_timeout": 2})
    assert status == 200
    status, deleted = await raw(master, "DELETE", "/api/v1/settings/apps.ack_timeout")
    assert status == 200
    status, audit = await raw(master, "GET", "/api/v1/audit")
    for secret in SECRETS:
        assert secret not in text and secret not in deleted and secret not in audit, secret


async def test_a_read_token_may_neither_read_nor_change_the_settings(
    master: RunningMaster,
) -> None:
    status, created = await master.api("POST", "/api/v1/tokens", json={"name": "viewer"})
    assert status == 201 and created["scope"] == "read"
    calls = [
        ("GET", "/api/v1/settings", None),
        ("PATCH", "/api/v1/settings", {"apps.ack_timeout": 1}),
        ("DELETE", "/api/v1/settings/apps.ack_timeout", None),
    ]
    for method, path, body in calls:
        async with master.http.request(
            method, master.url + path, headers=master.auth(created["token"]), json=body
        ) as response:
            answer = await response.json()
            assert (response.status, answer["code"]) == (403, "forbidden"), (method, answer)
    assert master.hub.settings.apps.ack_timeout == 10.0
    assert (await settings_of(master))["apps.ack_timeout"]["source"] == "default"


async def test_refusals_name_the_key_and_change_nothing(master: RunningMaster) -> None:
    before = await settings_of(master)
    cases: list[tuple[Any, int, str, str]] = [
        ({"apps.ack_timeout": 1, "server.port": 18000}, 409, "restart_required", "server.port"),
        ({"api.token": "a-new-admin-token"}, 409, "restart_required", "api.token"),
        ({"apps.ack_timeout": 1, "apps.nope": 1}, 400, "unknown_setting", "apps.nope"),
        ({"apps": {"ack_timeout": 1}}, 400, "unknown_setting", "apps"),
        ({"apps.ack_timeout": 1, "apps.max_attempts": 0}, 400, "invalid_payload", "max_attempts"),
        ({"apps.ack_timeout": -1}, 400, "invalid_payload", "apps.ack_timeout"),
        ({"apps.ack_timeout": "soon"}, 400, "invalid_payload", "apps.ack_timeout"),
        ({"logging.level": "LOUD"}, 400, "invalid_payload", "logging.level"),
        ({"traces.sample_ratio": 1.5}, 400, "invalid_payload", "traces.sample_ratio"),
        ({"retention.messages_days": 0}, 400, "invalid_payload", "retention.messages_days"),
        ([["apps.ack_timeout", 1]], 400, "invalid_payload", ""),
    ]
    for body, status, code, named in cases:
        got, answer = await master.api("PATCH", "/api/v1/settings", json=body)
        assert (got, answer["code"]) == (status, code), (body, answer)
        assert named in answer["message"], (body, answer)
    got, answer = await master.api("PATCH", "/api/v1/settings", data=b"{not json")
    assert (got, answer["code"]) == (400, "invalid_json")
    got, answer = await master.api("DELETE", "/api/v1/settings/server.port")
    assert (got, answer["code"]) == (409, "restart_required")
    got, answer = await master.api("DELETE", "/api/v1/settings/server.nope")
    assert (got, answer["code"]) == (404, "not_found")

    assert await settings_of(master) == before
    assert master.hub.settings.apps.ack_timeout == 10.0
    status, retention = await master.api("GET", "/api/v1/db/retention")
    assert not any(item["overridden"] for item in retention["items"])
    rows = await audit_rows(master, "update_settings")
    assert [row["result"] for row in rows[-4:]][::-1] == [
        "restart_required",
        "restart_required",
        "unknown_setting",
        "unknown_setting",
    ]
    assert rows[-1]["target"] == "apps.ack_timeout,server.port"
    assert rows[-1]["detail"]["keys"] == ["apps.ack_timeout", "server.port"]
    reset_rows = await audit_rows(master, "reset_setting")
    assert {row["result"] for row in reset_rows} == {"restart_required", "not_found"}


async def test_changes_apply_at_once_survive_a_restart_and_are_audited(
    start_master: StartMaster, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    master = await start_master(data, apps__ack_timeout="3")
    changes = {
        "apps.ack_timeout": 0.5,
        "apps.queue_limit": 50,
        "drivers.reply_wait": 5,
        "stats.flush_interval": 0.25,
        "traces.sample_ratio": "0.5",  # coerced as the config file's values are
        "retention.messages_days": 30,
    }
    status, body = await master.api("PATCH", "/api/v1/settings", json=changes)
    assert status == 200, body
    assert body["changed"] == [
        {"key": "apps.ack_timeout", "before": 3.0, "after": 0.5, "reset": False},
        {"key": "apps.queue_limit", "before": 10_000, "after": 50, "reset": False},
        {"key": "drivers.reply_wait", "before": 30.0, "after": 5.0, "reset": False},
        {"key": "stats.flush_interval", "before": 1.0, "after": 0.25, "reset": False},
        {"key": "traces.sample_ratio", "before": 0.01, "after": 0.5, "reset": False},
        {"key": "retention.messages_days", "before": 90.0, "after": 30.0, "reset": False},
    ]
    items = by_key(body)
    ack = items["apps.ack_timeout"]
    assert (ack["value"], ack["source"], ack["configured"], ack["configured_source"]) == (
        0.5,
        "runtime",
        3.0,
        "env",
    )
    assert isinstance(ack["updated_ms"], int)

    def live(master: RunningMaster) -> tuple[Any, ...]:
        flow = master.hub.flow
        return (
            flow.scheduler.settings.ack_timeout,
            flow.scheduler.backlog_limit,
            flow.replies.settings.reply_wait,
            flow.telemetry.tracer.sample_ratio,
            master.app[TELEMETRY]._stats_flush.interval,
        )

    assert live(master) == (0.5, 25, 5.0, 0.5, 0.25)
    status, retention = await master.api("GET", "/api/v1/db/retention")
    messages = next(item for item in retention["items"] if item["name"] == "messages")
    assert (messages["days"], messages["overridden"]) == (30, True)

    rows = await audit_rows(master, "update_settings")
    assert rows[0]["result"] == "ok"
    assert rows[0]["target"] == ",".join(changes)
    assert rows[0]["detail"]["changes"] == body["changed"]
    assert rows[0]["actor"]["name"] == "api.token"  # the configured admin token

    await stop_master(master)
    master = await start_master(data, apps__ack_timeout="3")
    items = await settings_of(master)
    assert (items["apps.ack_timeout"]["value"], items["apps.ack_timeout"]["source"]) == (
        0.5,
        "runtime",
    )
    assert items["retention.messages_days"]["source"] == "runtime"
    assert items["retention.messages_days"]["value"] == 30
    assert live(master) == (0.5, 25, 5.0, 0.5, 0.25)

    # Back to the configuration: by DELETE, or by null.
    status, body = await master.api("DELETE", "/api/v1/settings/apps.ack_timeout")
    assert status == 200, body
    ack = by_key(body)["apps.ack_timeout"]
    assert (ack["value"], ack["source"], ack["updated_ms"]) == (3.0, "env", None)
    status, body = await master.api(
        "PATCH",
        "/api/v1/settings",
        json={"apps.queue_limit": None, "retention.messages_days": None},
    )
    assert status == 200, body
    assert body["changed"][1] == {
        "key": "retention.messages_days",
        "before": 30.0,
        "after": 90.0,
        "reset": True,
    }
    assert by_key(body)["apps.queue_limit"]["source"] == "default"
    assert live(master)[:2] == (3.0, 200)
    rows = await audit_rows(master, "reset_setting")
    assert rows[0]["target"] == "apps.ack_timeout"
    assert rows[0]["detail"]["changes"] == [
        {"key": "apps.ack_timeout", "before": 0.5, "after": 3.0, "reset": True}
    ]
    await stop_master(master)
    master = await start_master(data, apps__ack_timeout="3")
    items = await settings_of(master)
    assert items["apps.ack_timeout"]["source"] == "env"
    assert items["retention.messages_days"]["source"] == "default"
    assert items["stats.flush_interval"]["source"] == "runtime"


async def test_a_new_ack_timeout_decides_when_new_deliveries_are_retried(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await start_master(drivers__tokens='["driver-token"]', apps__ack_timeout="30")
    driver = await SioDriver(master.url).connect("driver-token")
    assert (await driver.register("qq", "10001"))["success"]
    mute = await start_app(master.url, "mute")
    closing.extend([driver, mute])
    mute.answer = mute.never_ack
    status, body = await master.api("PATCH", "/api/v1/settings", json={"apps.ack_timeout": 0.3})
    assert status == 200, body

    ack = await driver.send("anyone there?")
    first = await mute.next_message()
    started = time.monotonic()
    again = await mute.next_message(timeout=3)  # with 30 s, nothing would come back in time
    assert (first["id"], first["attempt"]) == (again["id"], again["attempt"] - 1) == (ack["id"], 1)
    assert 0.3 <= time.monotonic() - started < 2


async def test_a_new_sample_ratio_decides_which_new_messages_are_traced(
    start_master: StartMaster,
) -> None:
    master = await start_master(traces__sample_ratio="0")

    async def simulate(content: str) -> str:
        status, body = await master.api(
            "POST", "/api/v1/simulate", json={"content": content, "wait_ms": 0}
        )
        assert status == 200, body
        message_id: str = body["id"]
        return message_id

    async def traced(message_id: str) -> bool:
        status, body = await master.api("GET", f"/api/v1/messages/{message_id}/trace")
        assert status == 200, body
        return bool(body["source"] == "trace")  # else a timeline made from its rows

    untraced = [await simulate(f"before {n}") for n in range(5)]
    status, _ = await master.api("PATCH", "/api/v1/settings", json={"traces.sample_ratio": 1})
    assert status == 200
    sampled = [await simulate(f"after {n}") for n in range(5)]
    for message_id in sampled:
        assert await eventually(lambda m=message_id: traced(m), bool), message_id
    assert [await traced(message_id) for message_id in untraced] == [False] * 5


async def test_a_new_payload_limit_holds_for_bodies_declared_or_streamed(
    master: RunningMaster,
) -> None:
    big = b'{"name": "' + b"n" * 120_000 + b'"}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 16_384):
            yield big[start : start + 16_384]

    async def post(data: Any) -> tuple[int, str]:
        headers = {**master.auth(), "Content-Type": "application/json"}
        async with master.http.post(
            master.url + "/api/v1/tokens", data=data, headers=headers
        ) as response:
            return response.status, (await response.json())["code"]

    assert await post(big) == (413, "payload_too_large")
    assert await post(chunks()) == (413, "payload_too_large")
    status, body = await master.api(
        "PATCH", "/api/v1/settings", json={"limits.max_payload": 200_000}
    )
    assert status == 200, body
    # Read whole now, and refused for what it says: a name that long is no name.
    assert await post(big) == (400, "invalid_payload")
    assert await post(chunks()) == (400, "invalid_payload")
    status, body = await master.api("PATCH", "/api/v1/settings", json={"limits.max_payload": 1000})
    assert status == 200
    assert await post(b'{"name": "' + b"n" * 2000 + b'"}') == (413, "payload_too_large")


async def test_a_new_heartbeat_timeout_and_keepalive_apply_to_what_is_open(
    master: RunningMaster, closing: list[Any]
) -> None:
    app = await start_app(master.url, "sleepy")  # never beats: 45 s would be its grace
    closing.append(app)
    status, _ = await master.api(
        "PATCH",
        "/api/v1/settings",
        json={"apps.heartbeat_timeout": 0.5, "events.keepalive": 0.2},
    )
    assert status == 200
    error = await app.next_error(timeout=4)
    assert error["code"] == "heartbeat_timeout"
    await app.wait_disconnected()

    timeout = aiohttp.ClientTimeout(total=3)
    async with master.http.get(
        master.url + "/api/v1/events", headers=master.auth(), timeout=timeout
    ) as stream:
        seen = b""
        while seen.count(b": keep-alive") < 2:
            seen += await asyncio.wait_for(stream.content.readany(), 2)


async def test_new_login_limits_apply_to_the_next_failed_login(master: RunningMaster) -> None:
    async def wrong_login() -> tuple[int, str | None]:
        async with master.http.post(
            master.url + "/api/v1/auth/login", json={"name": "admin", "password": "not it at all"}
        ) as response:
            return response.status, response.headers.get("Retry-After")

    status, _ = await master.api(
        "PATCH", "/api/v1/settings", json={"admin.login_max_attempts": 1, "admin.lockout": 60}
    )
    assert status == 200
    assert await wrong_login() == (401, None)
    assert await wrong_login() == (429, "60")  # the configured 10 attempts would allow it
