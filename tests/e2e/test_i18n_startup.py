"""The catalogs from the command line: a broken one stops start-up in one line; compile-catalogs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kenkogo_master.i18n import default_locales_dir
from tests.i18n.conftest import copy_locales

ROOT = Path(__file__).resolve().parents[2]


def run_main(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python main.py` with a throwaway data directory and no config file."""
    environ = {
        **os.environ,
        "KENKOGO_STORAGE__DATA_DIR": str(tmp_path / "data"),
        "KENKOGO_SERVER__HOST": "127.0.0.1",
        "KENKOGO_SERVER__PORT": "0",
        "KENKOGO_LOGGING__FILE": "false",
        **env,
    }
    return subprocess.run(
        [sys.executable, "main.py", "--config", str(tmp_path / "none.toml"), *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_catalog_that_fails_to_compile_stops_start_up_with_one_line(tmp_path: Path) -> None:
    locales = copy_locales(tmp_path / "locales")
    po = locales / "zh_Hans" / "LC_MESSAGES" / "messages.po"
    lines = po.read_text("utf-8").splitlines()
    broken_at = lines.index('msgid "error.invalid_json"') + 2
    lines.insert(broken_at - 1, 'msgstr "unterminated')
    po.write_text("\n".join(lines) + "\n", "utf-8")

    result = run_main(tmp_path, KENKOGO_I18N__LOCALES_DIR=str(locales))

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"catalog error: {po}:{broken_at}: ")
    assert not (tmp_path / "data" / "kenkogo.db").exists()


def test_a_default_locale_that_names_nothing_stops_start_up(tmp_path: Path) -> None:
    result = run_main(tmp_path, KENKOGO_I18N__DEFAULT_LOCALE="elvish")
    assert result.returncode == 2
    assert result.stderr.startswith("configuration error: i18n.default_locale: ")
    assert result.stderr.count("\n") == 1


def test_compile_catalogs_compiles_what_is_stale(tmp_path: Path) -> None:
    locales = copy_locales(tmp_path / "locales")
    first = run_main(tmp_path, "compile-catalogs", "--locales-dir", str(locales))
    assert first.returncode == 0, first.stderr
    assert sorted(first.stdout.splitlines()) == [
        f"compiled {locales / locale / 'LC_MESSAGES' / 'messages.mo'}"
        for locale in ("en", "ja", "zh_Hans")
    ]
    again = run_main(tmp_path, "compile-catalogs", KENKOGO_I18N__LOCALES_DIR=str(locales))
    assert again.stdout == f"catalogs in {locales} are up to date\n"
    forced = run_main(tmp_path, "compile-catalogs", "--force", "--locales-dir", str(locales))
    assert forced.stdout.count("compiled ") == 3
    assert default_locales_dir() != locales


def test_compile_catalogs_reports_a_broken_catalog(tmp_path: Path) -> None:
    locales = copy_locales(tmp_path / "locales")
    po = locales / "ja" / "LC_MESSAGES" / "messages.po"
    po.write_bytes(po.read_bytes() + b'msgid "x"\nmsgstr "\xff"\n')
    result = run_main(tmp_path, "compile-catalogs", "--locales-dir", str(locales))
    assert result.returncode == 1
    lines = po.read_bytes().count(b"\n")
    assert result.stderr == f"error: {po}:{lines}: not valid UTF-8\n"
