"""Operators' texts: seeding, listing with fallback, validated overrides, added locales."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from kenkogo_master.errors import HubError
from kenkogo_master.i18n import Translator
from kenkogo_master.i18n.texts import Override, TextAdmin


@dataclass
class MemoryTexts:
    """Texts kept in dicts, standing in for SQL."""

    seeded: dict[str, dict[str, str]] = field(default_factory=dict)
    stored: dict[tuple[str, str], str] = field(default_factory=dict)
    locales: dict[str, int] = field(default_factory=dict)

    async def seed(self, catalog_texts: Mapping[str, Mapping[str, str]], now_ms: int) -> None:
        self.seeded = {locale: dict(texts) for locale, texts in catalog_texts.items()}

    async def overrides(self) -> list[Override]:
        return [Override(loc, key, text, 1) for (loc, key), text in sorted(self.stored.items())]

    async def set_override(self, locale: str, key: str, text: str, now_ms: int) -> None:
        self.stored[(locale, key)] = text

    async def clear_override(
        self, locale: str, key: str, catalog_text: str | None, now_ms: int
    ) -> None:
        del self.stored[(locale, key)]

    async def offered_locales(self) -> dict[str, int]:
        return dict(self.locales)

    async def add_locale(self, locale: str, now_ms: int) -> None:
        self.locales[locale] = now_ms

    async def remove_locale(self, locale: str) -> None:
        del self.locales[locale]
        self.stored = {k: v for k, v in self.stored.items() if k[0] != locale}


async def admin_for(translator: Translator, store: MemoryTexts) -> TextAdmin:
    admin = TextAdmin(translator, store, lambda: 42)
    await admin.start()
    return admin


async def test_start_seeds_flat_catalog_texts_and_loads_stored_overrides(
    translator: Translator,
) -> None:
    store = MemoryTexts(stored={("ja", "error.not_found"): "ないです"}, locales={"fr": 7})
    admin = await admin_for(translator, store)
    assert store.seeded["en"]["template.items_count[1]"] == "{count} items"
    assert store.seeded["zh_Hans"]["error.already_registered"] == "此连接已经注册过了"
    assert translator.text("error.not_found", "ja") == "ないです"
    assert "fr" in translator.locales()
    assert [view.locale for view in admin.locale_views()] == ["en", "fr", "ja", "zh_Hans"]


async def test_an_override_changes_the_next_lookup_and_a_reset_restores_it(
    translator: Translator,
) -> None:
    store = MemoryTexts()
    admin = await admin_for(translator, store)
    view = await admin.set_text("zh-Hans", "error.unknown_event", "没有 {event} 这个事件")
    assert (view.locale, view.overridden, view.updated_ms) == ("zh_Hans", True, 42)
    assert translator.text("error.unknown_event", "zh_Hans", event="x") == "没有 x 这个事件"
    assert store.stored == {("zh_Hans", "error.unknown_event"): "没有 {event} 这个事件"}

    view = await admin.reset_text("zh_Hans", "error.unknown_event")
    assert (view.text, view.overridden) == ("未知的事件：{event}", False)
    assert translator.text("error.unknown_event", "zh_Hans", event="x") == "未知的事件：x"


async def test_one_plural_form_can_be_overridden(translator: Translator) -> None:
    admin = await admin_for(translator, MemoryTexts())
    await admin.set_text("en", "template.items_count[0]", "just {count} item")
    render = translator.render_template
    assert render("template.items_count", "en", {"count": {"plural": 1}}) == "just 1 item"
    assert render("template.items_count", "en", {"count": {"plural": 5}}) == "5 items"


async def test_listing_shows_where_each_text_comes_from(translator: Translator) -> None:
    admin = await admin_for(translator, MemoryTexts())
    await admin.add_locale("de")
    await admin.set_text("de", "error.not_found", "Nicht gefunden")
    views = {view.key: view for view in admin.list_texts("de", None)}
    assert (views["error.not_found"].text, views["error.not_found"].source) == (
        "Nicht gefunden",
        "de",
    )
    assert (views["error.kicked"].text, views["error.kicked"].source) == (
        "Disconnected by an operator",
        "en",
    )
    # German has two plural forms, so both are listed for it.
    assert {"template.items_count[0]", "template.items_count[1]"} <= set(views)
    ja = [view.key for view in admin.list_texts("ja", "items_count")]
    assert ja == ["template.items_count[0]"]


@pytest.mark.parametrize(
    ("locale", "key", "text", "detail"),
    [
        ("en", "error.illegal_transition", "From {from_state} to {state}", "{state}"),
        ("en", "error.not_found", "}{", "unmatched '}'"),
        ("en", "state.unknown_thing", "x", "unknown key"),
        ("en", "template.items_count[2]", "x", "en has 2 plural form(s)"),
        ("en", "error.kicked[0]", "x", "no plural forms"),
        ("??", "error.kicked", "x", "not a locale"),
        ("en", "error.kicked", "   ", "empty"),
    ],
)
async def test_bad_overrides_are_refused_and_change_nothing(
    translator: Translator, locale: str, key: str, text: str, detail: str
) -> None:
    store = MemoryTexts()
    admin = await admin_for(translator, store)
    with pytest.raises(HubError) as caught:
        await admin.set_text(locale, key, text)
    assert caught.value.code == "invalid_payload"
    assert detail in str(caught.value.params["detail"])
    assert store.stored == {}


async def test_placeholders_used_by_any_catalog_are_allowed(translator: Translator) -> None:
    admin = await admin_for(translator, MemoryTexts())
    view = await admin.set_text("en", "error.illegal_transition", "{to_state} ← {from_state}")
    assert view.text == "{to_state} ← {from_state}"


async def test_removing_an_added_locale_drops_its_overrides(translator: Translator) -> None:
    store = MemoryTexts()
    admin = await admin_for(translator, store)
    await admin.set_text("pt_BR", "error.not_found", "Não encontrado")
    assert "pt_BR" in store.locales
    await admin.remove_locale("pt-BR")
    assert translator.text("error.not_found", "pt_BR") == "Not found"
    assert "pt_BR" not in translator.locales()
    assert store.stored == {}
    with pytest.raises(HubError) as caught:
        await admin.remove_locale("en")
    assert caught.value.code == "invalid_payload"
