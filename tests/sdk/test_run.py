"""`python -m kenkogo_master.sdk.run` finds the app, or says in one line why it cannot."""

from __future__ import annotations

import pytest

from kenkogo_master.sdk.run import load_app, main


def test_an_example_loads_as_module_and_attribute() -> None:
    app = load_app("examples.echo:app")
    assert app.name == "echo" and app.register_payload()["subscribe"] == {"commands": ["/echo"]}


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["examples.echo"], "expected module:attribute"),
        ([":app"], "expected module:attribute"),
        (["no_such_module_here:app"], "cannot import no_such_module_here"),
        (["examples.echo:missing"], "has no attribute 'missing'"),
        (["examples.echo.echo:echo"], "is a function, not a kenkogo_master.sdk.App"),
        (["examples.echo:app", "--url", "ws://127.0.0.1:1"], "must start with http://"),
        (["examples.echo:app", "--log-level", "LOUD"], "is not a level"),
    ],
)
def test_bad_command_lines_exit_2_with_one_line(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert problem in err and err.count("\n") == 1


def test_no_app_at_all_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([])
    assert stopped.value.code == 2
    assert "the following arguments are required: app" in capsys.readouterr().err
