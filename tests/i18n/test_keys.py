"""The catalog tree agrees with the code: extraction finds keys, each locale translates them."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from kenkogo_master.i18n import Catalogs, default_locales_dir
from kenkogo_master.i18n.render import Placeholder, parse_template

ROOT = default_locales_dir().parent
SEEDED = {
    "error.invalid_payload",
    "error.already_registered",
    "error.template_missing_param",
    "error.unknown_template",
    "state.scheduling_started",
    "state.resumed",
}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """Run the documented extraction command over the package and read its template."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    command = ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_"]
    # pybabel names files relative to the directory given; the project root, as documented.
    CommandLineInterface().run([*command, "-o", str(pot), str(ROOT)])  # type: ignore[no-untyped-call]
    with pot.open("rb") as stream:
        return read_po(stream)


def _ids(catalog: Catalog) -> dict[str, bool]:
    """Return each key of a catalog with whether it has plural forms."""
    return {
        str(message.id[0] if message.pluralizable else message.id): message.pluralizable
        for message in catalog
        if message.id
    }


def _placeholders(text: str) -> set[str]:
    return {part.name for part in parse_template(text) if isinstance(part, Placeholder)}


def test_extraction_finds_marked_keys_and_plural_keys(extracted: Catalog) -> None:
    ids = _ids(extracted)
    assert set(ids) >= SEEDED
    assert ids["template.items_count"] is True
    assert ids["error.invalid_payload"] is False


def test_the_committed_template_lists_every_extracted_key(extracted: Catalog) -> None:
    with (ROOT / "locales" / "messages.pot").open("rb") as stream:
        committed = read_po(stream)
    assert set(_ids(extracted)) <= set(_ids(committed))


@pytest.mark.parametrize("locale", ["en", "zh_Hans", "ja"])
def test_every_extracted_key_has_a_text_in_each_locale(
    extracted: Catalog, catalogs: Catalogs, locale: str
) -> None:
    catalog = catalogs.by_locale[locale]
    for key, plural in _ids(extracted).items():
        if plural:
            assert all(catalog.plurals.get(key, ("",))), f"{locale}: {key} untranslated"
        else:
            assert catalog.texts.get(key), f"{locale}: {key} untranslated"


@pytest.mark.parametrize("locale", ["zh_Hans", "ja"])
def test_translations_use_the_english_placeholders(catalogs: Catalogs, locale: str) -> None:
    english, other = catalogs.by_locale["en"], catalogs.by_locale[locale]
    for key, text in other.texts.items():
        assert _placeholders(text) == _placeholders(english.texts[key]), f"{locale}: {key}"
    for key, forms in other.plurals.items():
        expected = _placeholders(english.plurals[key][-1])
        assert all(_placeholders(form) == expected for form in forms), f"{locale}: {key}"
