"""Compiling and loading the catalog tree, and reporting broken catalogs clearly."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from kenkogo_master.i18n import (
    CatalogError,
    Catalogs,
    compile_catalogs,
    compile_command,
    load_catalogs,
)

LOCALES = ("en", "ja", "zh_Hans")


def _po(locales_dir: Path, locale: str) -> Path:
    return locales_dir / locale / "LC_MESSAGES" / "messages.po"


def _make_older(path: Path, seconds: int) -> None:
    """Move a file's modification time into the past."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - seconds * 1_000_000_000))


def test_compile_writes_a_mo_next_to_every_po(locales_dir: Path) -> None:
    written = compile_catalogs(locales_dir)
    assert sorted(written) == sorted(_po(locales_dir, loc).with_suffix(".mo") for loc in LOCALES)
    assert all(path.stat().st_size > 0 for path in written)


def test_compile_skips_an_up_to_date_mo(locales_dir: Path) -> None:
    compile_catalogs(locales_dir)
    mo = _po(locales_dir, "ja").with_suffix(".mo")
    before = mo.stat().st_mtime_ns
    assert compile_catalogs(locales_dir) == []
    assert mo.stat().st_mtime_ns == before


def test_compile_rebuilds_a_mo_older_than_its_po(locales_dir: Path) -> None:
    compile_catalogs(locales_dir)
    po = _po(locales_dir, "ja")
    po.write_text(po.read_text("utf-8").replace("{count} 件", "{count} 個"), "utf-8")
    _make_older(po.with_suffix(".mo"), 60)
    assert compile_catalogs(locales_dir) == [po.with_suffix(".mo")]
    loaded = load_catalogs(locales_dir, compile=False)
    assert loaded.by_locale["ja"].plurals["template.items_count"] == ("{count} 個",)


def test_force_compiles_everything(locales_dir: Path) -> None:
    compile_catalogs(locales_dir)
    assert len(compile_catalogs(locales_dir, force=True)) == len(LOCALES)


def test_load_compiles_missing_catalogs_and_reads_texts_and_plural_rules(locales_dir: Path) -> None:
    catalogs = load_catalogs(locales_dir)
    assert catalogs.locales == ["en", "ja", "zh_Hans"]
    en, ja = catalogs.by_locale["en"], catalogs.by_locale["ja"]
    assert en.texts["error.unknown_event"] == "Unknown event: {event}"
    assert en.plurals["template.items_count"] == ("{count} item", "{count} items")
    assert (en.plural_rule.count, en.plural_rule.index(1), en.plural_rule.index(5)) == (2, 0, 1)
    assert (ja.plural_rule.count, ja.plural_rule.index(1), ja.plural_rule.index(5)) == (1, 0, 0)


def test_flat_texts_name_plural_forms_by_index(catalogs: Catalogs) -> None:
    flat = catalogs.by_locale["en"].flat_texts()
    assert flat["template.items_count[0]"] == "{count} item"
    assert flat["template.items_count[1]"] == "{count} items"
    assert flat["state.kicked"] == "Disconnected by an operator"
    assert "template.items_count" not in flat


def test_load_without_compiling_reports_a_missing_mo(locales_dir: Path) -> None:
    with pytest.raises(CatalogError, match=r"/LC_MESSAGES/messages\.po: not compiled"):
        load_catalogs(locales_dir, compile=False)


def test_an_empty_tree_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"no <locale>/LC_MESSAGES/messages\.po catalogs found"):
        load_catalogs(tmp_path)


def test_a_directory_that_is_no_locale_is_reported(locales_dir: Path) -> None:
    (locales_dir / "en").rename(locales_dir / "english")
    with pytest.raises(CatalogError, match="directory 'english' is not a locale identifier"):
        compile_catalogs(locales_dir)


HEADER = (
    'msgid ""\nmsgstr ""\n"Language: ja\\n"\n"Plural-Forms: nplurals=1; plural=0;\\n"\n'
    '"Content-Type: text/plain; charset=utf-8\\n"\n\n'
)


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ('msgid "a"\nmsgstr "A"\n\nmsgid "b"\nmsgstr B\n', 11, "cannot parse 'msgstr B'"),
        ('msgid "a"\nmsgstr "A\n', 8, "cannot parse"),
        ('msgid "a"\n\nmsgid "b"\nmsgstr "B"\n', 7, "entry has no msgstr"),
        ('msgid "a"\nmsgstr "A"\n\nmsgid "a"\nmsgstr "B"\n', 10, "duplicate msgid 'a'"),
        ('msgid "n"\nmsgid_plural "n"\nmsgstr[0] "x"\nmsgstr[1] "y"\n', 10, "plural forms"),
        ('msgid "n"\nmsgid_plural "n"\nmsgstr[1] "y"\n', 9, "out of order"),
        ('msgstr "A"\n', 7, "unexpected msgstr"),
        ('"dangling"\n', 7, "string outside an entry"),
    ],
)
def test_a_broken_po_names_its_file_and_line(
    locales_dir: Path, body: str, line: int, reason: str
) -> None:
    po = _po(locales_dir, "ja")
    po.write_text(HEADER + body, "utf-8")
    with pytest.raises(CatalogError) as caught:
        compile_catalogs(locales_dir)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{po}:{line}: ")
    assert caught.match(reason)


def test_invalid_utf8_is_reported_with_its_line(locales_dir: Path) -> None:
    po = _po(locales_dir, "zh_Hans")
    po.write_bytes(HEADER.encode() + b'msgid "a"\nmsgstr "\xff"\n')
    with pytest.raises(CatalogError, match=rf"^{po}:8: not valid UTF-8$"):
        compile_catalogs(locales_dir)


def test_a_bad_plural_forms_header_is_reported(locales_dir: Path) -> None:
    po = _po(locales_dir, "en")
    text = po.read_text("utf-8").replace("plural=(n != 1)", "plural=(n !=! import os)")
    po.write_text(text, "utf-8")
    with pytest.raises(CatalogError, match=rf"^{po}: bad Plural-Forms header"):
        compile_catalogs(locales_dir)


def test_a_broken_catalog_leaves_no_mo_behind(locales_dir: Path) -> None:
    po = _po(locales_dir, "ja")
    po.write_text(HEADER + 'msgid "a"\n', "utf-8")
    with pytest.raises(CatalogError):
        compile_catalogs(locales_dir)
    assert list(po.parent.iterdir()) == [po]


def test_compile_command_reports_what_it_did(locales_dir: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert compile_command(locales_dir, out=out, err=err) == 0
    assert out.getvalue().count("compiled ") == len(LOCALES)
    out = io.StringIO()
    assert compile_command(locales_dir, out=out, err=err) == 0
    assert "up to date" in out.getvalue()
    assert err.getvalue() == ""


def test_compile_command_fails_with_one_clear_line(locales_dir: Path) -> None:
    po = _po(locales_dir, "ja")
    po.write_text(HEADER + "garbage\n", "utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert compile_command(locales_dir, out=out, err=err) == 1
    assert err.getvalue() == f"error: {po}:7: cannot parse 'garbage'\n"
