"""kenkogo.toml: every bad manifest is refused naming its field; a good one becomes a LaunchSpec."""

from __future__ import annotations

from pathlib import Path

import pytest

from kenkogo_master.deploy import manifest as manifests
from kenkogo_master.deploy.spec import LaunchSpec, ReadyPolicy, RestartPolicy, StopPolicy
from kenkogo_master.errors import ErrorCode, HubError

GOOD = """
id = "echo"
name = "Echo"
version = "1.0.0"
master = ">=0.1,<1"
[runtime]
type = "python"
entry = "echo:app"
[env]
GREETING = "hi"
[restart]
when = "always"
fatal_after = 3
[stop]
timeout = 2.5
[ready]
when = "registered"
seconds = 8
[limits]
memory_mb = 256
"""


def refusal(text: str) -> HubError:
    with pytest.raises(HubError) as caught:
        manifests.loads(text.encode())
    return caught.value


def test_a_good_manifest_becomes_a_launch_spec(tmp_path: Path) -> None:
    manifest = manifests.loads(GOOD.encode())
    spec = manifest.launch_spec("a" * 64, tmp_path / "app", tmp_path / "venv")
    assert isinstance(spec, LaunchSpec)
    assert spec.argv == (
        str(tmp_path / "venv/bin/python"),
        "-m",
        "kenkogo_master.sdk.run",
        "echo:app",
    )
    assert spec.cwd == tmp_path / "app" and spec.env == {"GREETING": "hi"}
    assert spec.restart == RestartPolicy(when="always", fatal_after=3)
    assert spec.stop == StopPolicy(timeout=2.5)
    assert spec.ready == ReadyPolicy(when="registered", seconds=8)
    assert spec.limits.memory_mb == 256 and spec.runtime == "python"


@pytest.mark.parametrize(
    ("runtime", "expected"),
    [
        ('type = "python"\nentry = "bot.py"', ("{venv}/bin/python", "{app}/bot.py")),
        ('type = "python"\nentry = ["python", "-m", "bot"]', ("{venv}/bin/python", "-m", "bot")),
        ('type = "command"\nentry = "./run.sh --fast"', ("{app}/run.sh", "--fast")),
        ('type = "command"\nentry = ["sh", "-c", "x"]', ("/usr/bin/sh", "-c", "x")),
    ],
)
def test_entries_become_argv_with_an_absolute_program(
    tmp_path: Path, runtime: str, expected: tuple[str, ...]
) -> None:
    text = f'id = "x"\nname = "X"\nversion = "1"\n[runtime]\n{runtime}\n'
    argv = manifests.loads(text.encode()).argv(tmp_path / "app", tmp_path / "venv")
    wanted = tuple(part.format(venv=tmp_path / "venv", app=tmp_path / "app") for part in expected)
    if wanted[0] == "/usr/bin/sh":
        assert Path(argv[0]).name == "sh" and Path(argv[0]).is_absolute()
        wanted = (argv[0], *wanted[1:])
    assert argv == wanted


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (('id = "echo"', 'id = "Echo!"'), "id"),
        (('id = "echo"', ""), "id"),
        (('name = "Echo"', "name = 3"), "name"),
        (('type = "python"', 'type = "ruby"'), "runtime.type"),
        (('entry = "echo:app"', 'entry = "echo:not an attr"'), "runtime.entry"),
        (('entry = "echo:app"', 'entry = "../outside.py"'), "runtime.entry"),
        (('entry = "echo:app"', "entry = []"), "runtime.entry"),
        (('master = ">=0.1,<1"', 'master = "newest please"'), "master"),
        (('when = "always"', 'when = "sometimes"'), "restart.when"),
        (("timeout = 2.5", "timeout = -1"), "stop.timeout"),
        (('GREETING = "hi"', '"BAD NAME" = "x"'), "env.BAD NAME"),
        (("memory_mb = 256", "memory_mb = 256\nswap = 1"), "limits.swap"),
        (("[limits]", "colour = 1\n[limits]"), "ready.colour"),
    ],
)
def test_a_bad_manifest_names_its_field(change: tuple[str, str], field: str) -> None:
    assert change[0] in GOOD
    error = refusal(GOOD.replace(change[0], change[1], 1))
    assert error.code is ErrorCode.INVALID_MANIFEST
    assert error.params["field"] == field, error.params


def test_what_is_no_toml_is_refused() -> None:
    error = refusal("id = \n")
    assert error.code is ErrorCode.INVALID_MANIFEST and error.params["field"] == "kenkogo.toml"


def test_a_package_without_a_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HubError) as caught:
        manifests.load(tmp_path)
    assert caught.value.code is ErrorCode.INVALID_MANIFEST
    assert "missing" in caught.value.params["detail"]


def test_another_master_version_is_refused() -> None:
    manifest = manifests.loads(GOOD.replace(">=0.1,<1", ">=2").encode())
    with pytest.raises(HubError) as caught:
        manifest.check_master("0.1.0")
    assert caught.value.code is ErrorCode.MASTER_VERSION_MISMATCH
    assert caught.value.params == {"id": "echo", "wanted": ">=2", "version": "0.1.0"}
    manifest.check_master("2.0.0")  # and a fitting one passes
