"""What an app started by the supervisor takes from its environment."""

from __future__ import annotations

import pytest

from kenkogo_master.sdk import App, deployed
from kenkogo_master.sdk.run import load_app


def test_the_supervisors_url_and_token_replace_the_apps_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = App("x", "1", url="http://127.0.0.1:1", token="own")
    deployed.adopt(app)
    assert app.urls == ["http://127.0.0.1:1"] and app.token == "own"  # nothing set: unchanged
    monkeypatch.setenv(deployed.MASTER_URL, "http://127.0.0.1:2")
    monkeypatch.setenv(deployed.APP_TOKEN, "kgd_given")
    deployed.adopt(app)
    assert app.urls == ["http://127.0.0.1:2"] and app.token == "kgd_given"


def test_the_masters_pid_is_read_only_when_it_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    assert deployed.master_pid() is None
    for bad in ("", "x", "1", "-5"):
        monkeypatch.setenv(deployed.MASTER_PID, bad)
        assert deployed.master_pid() is None
    monkeypatch.setenv(deployed.MASTER_PID, "4242")
    assert deployed.master_pid() == 4242


def test_flags_on_the_command_line_win_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kenkogo_master.sdk import run

    example = load_app("examples.echo:app")
    for name in ("urls", "token", "adopted"):  # given back as they were after the test
        monkeypatch.setattr(example, name, getattr(example, name))
    monkeypatch.setenv(deployed.MASTER_URL, "http://127.0.0.1:2")
    ran: list[App] = []
    monkeypatch.setattr(App, "run", lambda self: ran.append(self))
    assert run.main(["examples.echo:app", "--url", "http://127.0.0.1:3"]) == 0
    assert ran == [example]
    assert example.urls == ["http://127.0.0.1:3"] and example.adopted
