"""Configuration: defaults, the TOML file, KENKOGO_* overrides, and one-line refusals."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from kenkogo_master.settings import (
    LIST_SECTIONS,
    RUNTIME_KEYS,
    SECRET_KEYS,
    URL_KEYS,
    Settings,
    SettingsError,
    Source,
    load_settings,
    setting_keys,
)
from tests.support.process import REPO, master_environ, run_main

EXAMPLE = REPO / "config.example.toml"


def write(path: Path, text: str) -> Path:
    """Write a config file and return its path."""
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_documented_ones() -> None:
    settings = load_settings(None, {})

    assert (settings.server.host, settings.server.port) == ("0.0.0.0", 17680)
    assert settings.server.websocket_compression is False
    assert settings.storage.data_dir == Path("./data")
    assert settings.storage.database_url is None
    assert settings.storage.resolved_database_url() == (
        f"sqlite+aiosqlite:///{(Path('data') / 'kenkogo.db').resolve()}"
    )
    assert settings.api.token is None
    assert settings.drivers.tokens == []
    assert settings.onebot.access_token is None
    assert (settings.apps.require_token, settings.apps.tokens) == (False, [])
    apps = settings.apps
    assert (
        apps.register_timeout,
        apps.heartbeat_timeout,
        apps.resume_window,
        apps.ack_timeout,
    ) == (10, 45, 60, 10)
    assert (apps.max_attempts, apps.max_in_flight, apps.queue_limit) == (5, 64, 10_000)
    assert settings.limits.max_payload == 65_536
    assert (settings.traces.sample_ratio, settings.traces.slow_ms) == (0.01, 1000.0)


def test_every_key_outside_tools_rely_on_exists_under_its_name() -> None:
    # PROTOCOL.md section 8: scripts and containers set these by name.
    keys = {
        "server": {"host", "port"},
        "storage": {"data_dir", "database_url"},
        "api": {"token"},
        "drivers": {"tokens"},
        "onebot": {"access_token"},
        "apps": {
            "require_token",
            "tokens",
            "register_timeout",
            "heartbeat_timeout",
            "resume_window",
            "ack_timeout",
            "max_attempts",
            "max_in_flight",
            "queue_limit",
        },
        "limits": {"max_payload"},
        "traces": {"sample_ratio", "slow_ms"},
    }
    for section, names in keys.items():
        model = Settings.model_fields[section].annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        assert names <= set(model.model_fields), section


def test_file_values_are_overridden_by_the_environment(tmp_path: Path) -> None:
    config = write(
        tmp_path / "config.toml",
        """
        [server]
        port = 18000
        host = "127.0.0.1"
        [apps]
        tokens = ["from-file"]
        register_timeout = 2.5
        [drivers]
        tokens = ["d1"]
        """.replace("        ", ""),
    )
    environ = {
        "KENKOGO_SERVER__PORT": "18001",
        "KENKOGO_DRIVERS__TOKENS": '["t1", "t2"]',
        "KENKOGO_APPS__HEARTBEAT_TIMEOUT": "0.5",
        "KENKOGO_APPS__REQUIRE_TOKEN": "true",
        "KENKOGO_STORAGE__DATA_DIR": str(tmp_path / "elsewhere"),
        "KENKOGO_LIMITS__MAX_PAYLOAD": "1024",
        "UNRELATED": "x",
        "KENKOGO_NOT_A_KEY": "ignored: no section separator",
    }

    settings = load_settings(config, environ)

    assert settings.server.port == 18001
    assert settings.server.host == "127.0.0.1"
    assert settings.apps.tokens == ["from-file"]
    assert settings.apps.register_timeout == 2.5
    assert settings.apps.heartbeat_timeout == 0.5
    assert settings.apps.require_token is True
    assert settings.drivers.tokens == ["t1", "t2"]
    assert settings.storage.data_dir == tmp_path / "elsewhere"
    assert settings.limits.max_payload == 1024


def test_each_key_remembers_where_its_value_came_from(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", "[server]\nport = 18000\nhost = '127.0.0.1'\n")
    environ = {"KENKOGO_SERVER__PORT": "18001", "KENKOGO_APPS__TOKENS": '["t"]', "OTHER": "1"}

    settings = load_settings(config, environ)

    assert settings.config_file == config
    assert settings.source("server.port") is Source.ENV  # the environment wins
    assert settings.source("server.host") is Source.FILE
    assert settings.source("apps.tokens") is Source.ENV
    assert settings.source("apps.ack_timeout") is Source.DEFAULT
    # A copy (what a reset goes back to) keeps them; settings made in code have none.
    assert settings.model_copy(deep=True).source("server.host") is Source.FILE
    assert Settings().source("server.port") is Source.DEFAULT
    assert Settings().config_file is None
    assert load_settings(tmp_path / "absent.toml", {}).config_file is None


def test_every_secret_looking_key_is_classified() -> None:
    keys = {f"{section}.{key}" for section, key in setting_keys()}
    assert keys >= SECRET_KEYS | URL_KEYS | RUNTIME_KEYS
    looks_secret = {
        key
        for key in keys
        if any(word in key for word in ("token", "password", "secret", "url", "endpoint"))
    }
    # Not secrets: whether a token is needed, and how long a password must be.
    plain = {"apps.require_token", "admin.min_password_length"}
    assert looks_secret - plain == SECRET_KEYS | URL_KEYS
    assert not (SECRET_KEYS | URL_KEYS) & RUNTIME_KEYS


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "absent.toml", {}).server.port == 17680


@pytest.mark.parametrize(
    ("text", "environ", "named"),
    [
        pytest.param("[server]\nprot = 1\n", {}, "server.prot: unknown key", id="unknown-key"),
        pytest.param("[nope]\nx = 1\n", {}, "nope: unknown key", id="unknown-section"),
        pytest.param("", {"KENKOGO_SERVER__PROT": "1"}, "server.prot", id="unknown-env-key"),
        pytest.param("[server]\nport = 'high'\n", {}, "server.port", id="port-not-a-number"),
        pytest.param("[server]\nport = 70000\n", {}, "server.port", id="port-too-big"),
        pytest.param("", {"KENKOGO_SERVER__PORT": "abc"}, "server.port", id="env-port-abc"),
        pytest.param("[apps]\nregister_timeout = 0\n", {}, "apps.register_timeout", id="zero"),
        pytest.param("[apps]\nheartbeat_timeout = -1\n", {}, "apps.heartbeat_timeout", id="neg"),
        pytest.param(
            "", {"KENKOGO_DRIVERS__TOKENS": "[not json"}, "drivers.tokens", id="env-list-bad"
        ),
        pytest.param("[apps]\ntokens = 'one'\n", {}, "apps.tokens", id="list-as-string"),
        pytest.param("[limits]\nmax_payload = 10\n", {}, "limits.max_payload", id="tiny-limit"),
        pytest.param("[api]\ntoken = 'short'\n", {}, "api.token", id="short-token"),
        pytest.param("server = 1\n", {"KENKOGO_SERVER__PORT": "1"}, "server", id="not-a-table"),
        pytest.param("[server\nport = 1\n", {}, "not valid TOML", id="broken-toml"),
        pytest.param("[traces]\nslow_ms = 0\n", {}, "traces.slow_ms", id="slow-zero"),
        pytest.param("[traces]\nslow_ms = -5\n", {}, "traces.slow_ms", id="slow-negative"),
        pytest.param("", {"KENKOGO_TRACES__SLOW_MS": "fast"}, "traces.slow_ms", id="slow-text"),
        pytest.param("[traces]\nslow_ms = 86400001\n", {}, "traces.slow_ms", id="slow-huge"),
    ],
)
def test_bad_configuration_is_refused_naming_the_key(
    tmp_path: Path, text: str, environ: dict[str, str], named: str
) -> None:
    config = write(tmp_path / "config.toml", text)

    with pytest.raises(SettingsError) as refused:
        load_settings(config, environ)

    assert named in str(refused.value)
    assert "\n" not in str(refused.value)


def test_example_file_names_every_key_and_loads() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert load_settings(EXAMPLE, {}) == Settings()  # as shipped, everything is commented out
    sections = set(re.findall(r"^\[(\w+)\]", text, re.MULTILINE))
    for section, field in Settings.model_fields.items():
        if section in LIST_SECTIONS:
            continue  # an array of tables: tests/test_config_example.py checks its example
        assert section in sections, f"[{section}] is missing from config.example.toml"
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        body = text.split(f"[{section}]", 1)[1].split("\n[", 1)[0]
        for key in model.model_fields:
            assert re.search(rf"^# {key} = ", body, re.MULTILINE), (
                f"{section}.{key} is missing from config.example.toml"
            )
    uncommented = re.sub(r"^# (\w+ = )", r"\1", text, flags=re.MULTILINE)
    tomllib.loads(uncommented)  # the commented values are valid TOML as written


@pytest.mark.parametrize(
    ("text", "environ", "named"),
    [
        pytest.param("[server]\nprot = 1\n", {}, "server.prot", id="unknown-key"),
        pytest.param("[server]\nport = 'x'\n", {}, "server.port", id="bad-value"),
        pytest.param("", {"KENKOGO_APPS__MAX_ATTEMPTS": "many"}, "apps.max_attempts", id="env"),
        pytest.param("[apps\n", {}, "config.toml", id="broken-toml"),
        pytest.param(
            "[[onebot_apps]]\nname = 'nb'\nurl = 'http://127.0.0.1:8080/'\n",
            {},
            "onebot_apps.0.url",
            id="onebot-app-url",
        ),
        pytest.param(
            "[[onebot_apps]]\nname = 'nb'\nurl = 'ws://127.0.0.1:8080/'\n"
            "subscribe = {regex = ['(']}\n",
            {},
            "onebot_apps.0.subscribe.regex",
            id="onebot-app-regex",
        ),
        pytest.param(
            "[[onebot_apps]]\nurl = 'ws://h/'\n", {}, "onebot_apps.0.name", id="onebot-name"
        ),
    ],
)
async def test_main_py_stops_with_one_line_and_exit_code_2(
    tmp_path: Path, text: str, environ: dict[str, str], named: str
) -> None:
    write(tmp_path / "config.toml", text)  # found as ./config.toml, the default path
    env = master_environ(tmp_path / "data", 0, **environ)
    del env["KENKOGO_SERVER__PORT"]  # the file's [server] keys must not be overridden here

    code, out, err = await run_main([], env, cwd=tmp_path, timeout=15)

    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert named in lines[0]
    assert "Traceback" not in err + out
    assert not (tmp_path / "data").exists()


async def test_main_py_reads_the_file_given_with_config(tmp_path: Path) -> None:
    config = write(tmp_path / "custom.toml", "[limits]\nmax_payload = 'huge'\n")

    code, _, err = await run_main(
        ["--config", str(config)], master_environ(tmp_path / "data", 0), cwd=tmp_path, timeout=15
    )

    assert code == 2
    assert "limits.max_payload" in err
