"""config.example.toml documents every key, and uncommented it is a valid configuration."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel

from kenkogo_master.settings import (
    LIST_SECTIONS,
    RUNTIME_KEYS,
    OneBotAppEntry,
    Settings,
    load_settings,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"
COMMENTED_KEY = re.compile(r"^# (\w+ = .*)$")
# The example of an array of tables is indented under `#   `, so that it stays out of the
# section above it when the keys are uncommented.
COMMENTED_TABLE_LINE = re.compile(r"^#   (?!#)(.*)$")


def _uncommented() -> str:
    """Return the example with every commented `key = value` line turned on."""
    return "\n".join(
        match.group(1) if (match := COMMENTED_KEY.match(line)) else line
        for line in EXAMPLE.read_text(encoding="utf-8").splitlines()
    )


def test_every_setting_is_in_the_example() -> None:
    data = tomllib.loads(_uncommented())
    for section, field in Settings.model_fields.items():
        model = field.annotation
        if section in LIST_SECTIONS:
            continue
        assert isinstance(model, type) and issubclass(model, BaseModel)
        assert section in data, f"[{section}] missing from config.example.toml"
        missing = set(model.model_fields) - set(data[section])
        assert not missing, f"[{section}] keys missing from config.example.toml: {sorted(missing)}"


def test_uncommented_example_loads(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(_uncommented(), encoding="utf-8")
    settings = load_settings(config, environ={})
    assert settings.server.port == Settings().server.port
    assert settings.apps.ack_timeout == Settings().apps.ack_timeout


def test_the_keys_that_change_at_run_time_are_listed() -> None:
    header = EXAMPLE.read_text(encoding="utf-8").partition("\n[server]")[0]
    listed = header.partition("every other key needs a restart:")[2].partition("# and the")[0]
    assert set(re.findall(r"\b[a-z]+\.[a-z_]+\b", listed)) == RUNTIME_KEYS


def test_the_onebot_apps_example_is_complete_and_valid() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    lines = text[text.index("#   [[onebot_apps]]") :].splitlines()
    table = "\n".join(m.group(1) for line in lines if (m := COMMENTED_TABLE_LINE.match(line)))
    data = tomllib.loads(table)
    assert list(data) == ["onebot_apps"]
    (entry,) = data["onebot_apps"]
    assert set(entry) == set(OneBotAppEntry.model_fields)
    settings = Settings.model_validate(data)
    assert settings.onebot_apps[0].url == "ws://127.0.0.1:8080/onebot/v11/ws"
