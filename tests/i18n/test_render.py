"""Texts and templates per locale: fallback, overrides, typed parameters, plural forms, errors."""

from __future__ import annotations

import datetime as dt

import pytest
from babel.dates import format_date
from babel.numbers import format_decimal

from kenkogo_master.i18n import Catalogs, TemplateError, Translator
from kenkogo_master.i18n import render as render_module

RECEIPT = "template.receipt"


def items(translator: Translator, locale: str, count: float) -> str:
    """Render the seeded plural template for a count."""
    return translator.render_template("template.items_count", locale, {"count": {"plural": count}})


@pytest.fixture
def receipts(translator: Translator) -> Translator:
    """Add a template with a number and a date in English and Simplified Chinese."""
    translator.set_override("en", RECEIPT, "Total {amount} on {day}")
    translator.set_override("zh_Hans", RECEIPT, "{day} 合计 {amount}")
    return translator


def test_one_error_reads_differently_in_three_locales(translator: Translator) -> None:
    texts = {
        loc: translator.text("error.already_registered", loc) for loc in ("en", "zh_Hans", "ja")
    }
    assert texts == {
        "en": "This connection is already registered",
        "zh_Hans": "此连接已经注册过了",
        "ja": "この接続はすでに登録されています",
    }


def test_error_message_fills_the_code_s_placeholders(translator: Translator) -> None:
    message = translator.error_message(
        "illegal_transition", "en", {"from_state": "paused", "to_state": "connected"}
    )
    assert message == "Cannot go from paused to connected"


def test_numbers_in_texts_are_formatted_for_the_locale(translator: Translator) -> None:
    en = translator.text("error.payload_too_large", "en", size=70000, limit=65536)
    de = translator.text("error.payload_too_large", "de", size=70000, limit=65536)
    assert en == "Payload of 70,000 bytes exceeds the limit of 65,536 bytes"
    assert de == "Payload of 70.000 bytes exceeds the limit of 65.536 bytes"


def test_template_formats_numbers_and_dates_as_babel_does_per_locale(receipts: Translator) -> None:
    params = {"amount": 1234567.891, "day": {"date": "2026-11-22"}}
    zh = receipts.render_template(RECEIPT, "zh_Hans", params)
    en = receipts.render_template(RECEIPT, "en", params)
    day = dt.date(2026, 11, 22)
    zh_amount, en_amount = (format_decimal(1234567.891, locale=loc) for loc in ("zh_Hans", "en"))
    assert zh == f"{format_date(day, 'medium', locale='zh_Hans')} 合计 {zh_amount}"
    assert en == f"Total {en_amount} on {format_date(day, locale='en')}"
    assert zh == "2026年11月22日 合计 1,234,567.891"
    assert en == "Total 1,234,567.891 on Nov 22, 2026"


@pytest.mark.parametrize(
    ("locale", "one", "five"),
    [
        ("en", "1 item", "5 items"),
        ("zh_Hans", "1 个项目", "5 个项目"),
        ("ja", "1 件", "5 件"),
    ],
)
def test_plural_forms_follow_the_locale(
    translator: Translator, locale: str, one: str, five: str
) -> None:
    assert (items(translator, locale, 1), items(translator, locale, 5)) == (one, five)


def test_plural_counts_are_formatted_and_fractions_take_the_last_form(
    translator: Translator,
) -> None:
    def render(count: float) -> str:
        return items(translator, "en", count)

    assert render(1234) == "1,234 items"
    assert render(1.0) == "1 item"
    assert render(1.5) == "1.5 items"
    assert render(0) == "0 items"


def test_text_picks_plural_forms_from_a_count_param(translator: Translator) -> None:
    assert translator.text("template.items_count", "en", count=1) == "1 item"
    assert translator.text("template.items_count", "en", count=3) == "3 items"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("zh_Hans_CN", "未知的事件：x"),
        ("zh-CN", "未知的事件：x"),
        ("ja_JP", "不明なイベントです：x"),
        ("fr", "Unknown event: x"),
        ("not a locale", "Unknown event: x"),
        (None, "Unknown event: x"),
    ],
)
def test_texts_fall_back_along_the_chain(
    translator: Translator, tag: str | None, expected: str
) -> None:
    assert translator.text("error.unknown_event", tag, event="x") == expected


def test_the_configured_default_ends_the_chain(catalogs: Catalogs) -> None:
    translator = Translator(catalogs, default_locale="ja")
    assert translator.text("error.internal", "fr") == "内部エラー"
    assert translator.text("error.internal", "en") == "Internal error"


def test_a_parent_override_serves_regional_and_script_variants(translator: Translator) -> None:
    translator.set_override("zh", "error.internal", "内部錯誤")
    assert translator.text("error.internal", "zh_Hant_TW") == "内部錯誤"
    # A locale's own catalog text is more specific than its parent's override.
    assert translator.text("error.internal", "zh_Hans_CN") == "内部错误"


def test_unknown_key_comes_back_as_itself(translator: Translator) -> None:
    assert translator.text("error.no_such_key", "ja", detail="x") == "error.no_such_key"


def test_text_leaves_a_placeholder_without_value_visible(translator: Translator) -> None:
    assert translator.text("error.invalid_payload", "en") == "Invalid payload: {detail}"


def test_override_is_used_at_once_and_cleared(translator: Translator) -> None:
    key = "error.not_found"
    assert translator.text(key, "en") == "Not found"  # now cached
    translator.set_override("en-US", key, "Nothing here")
    assert translator.text(key, "en_US") == "Nothing here"
    assert translator.text(key, "en") == "Not found"
    translator.set_override("en", key, "No such thing")
    assert translator.text(key, "en") == "No such thing"
    assert translator.text(key, "fr") == "No such thing"
    translator.clear_override("en", key)
    assert translator.text(key, "en") == "Not found"
    assert translator.text(key, "en_US") == "Nothing here"


def test_overriding_one_plural_form_keeps_the_others(translator: Translator) -> None:
    def render(count: float) -> str:
        return items(translator, "en", count)

    assert render(2) == "2 items"
    translator.set_override("en", "template.items_count[1]", "{count} things")
    assert (render(1), render(2)) == ("1 item", "2 things")


def test_a_plain_override_of_a_plural_key_stands_for_every_form(translator: Translator) -> None:
    translator.set_override("ja", "template.items_count", "{count} 個")
    assert items(translator, "ja", 3) == "3 個"
    translator.clear_override("ja", "template.items_count")
    assert items(translator, "ja", 3) == "3 件"


def test_a_locale_without_catalog_uses_its_own_plural_rule(translator: Translator) -> None:
    # Polish has three gettext forms: one, few (2-4), many.
    for index, text in enumerate(["{count} element", "{count} elementy", "{count} elementów"]):
        translator.set_override("pl", f"template.items_count[{index}]", text)

    def render(count: float) -> str:
        return items(translator, "pl", count)

    assert (render(1), render(3), render(5)) == ("1 element", "3 elementy", "5 elementów")
    assert "pl" in translator.locales()


def test_a_missing_plural_form_falls_back_to_the_next_locale(translator: Translator) -> None:
    translator.set_override("de", "template.items_count[0]", "{count} Eintrag")

    def render(count: float) -> str:
        return items(translator, "de", count)

    assert (render(1), render(5)) == ("1 Eintrag", "5 items")


def test_replace_overrides_swaps_the_whole_set(translator: Translator) -> None:
    translator.set_override("en", "error.internal", "Oops")
    translator.replace_overrides([("ja", "error.internal", "しまった"), ("bogus!", "x", "y")])
    assert translator.text("error.internal", "en") == "Internal error"
    assert translator.text("error.internal", "ja") == "しまった"
    assert translator.locales() == ["en", "ja", "zh_Hans"]


def test_set_override_rejects_a_tag_that_names_no_locale(translator: Translator) -> None:
    with pytest.raises(ValueError, match="is not a locale"):
        translator.set_override("nope!", "error.internal", "x")


def test_rendering_parses_a_text_once_until_it_changes(
    receipts: Translator, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    original = render_module.parse_template

    def counting(text: str) -> render_module.Parsed:
        parsed.append(text)
        return original(text)

    monkeypatch.setattr(render_module, "parse_template", counting)
    params = {"amount": 3, "day": "today"}
    for _ in range(3):
        assert receipts.render_template(RECEIPT, "en", params) == "Total 3 on today"
    assert parsed == ["Total {amount} on {day}"]
    receipts.set_override("en", RECEIPT, "{amount} paid {day}")
    assert receipts.render_template(RECEIPT, "en", params) == "3 paid today"
    assert parsed == ["Total {amount} on {day}", "{amount} paid {day}"]


def test_braces_can_be_escaped_and_stray_braces_stay_literal(translator: Translator) -> None:
    translator.set_override("en", "template.braces", "{{name}} is {name}, {not closed, {0}, }")
    rendered = translator.render_template("template.braces", "en", {"name": "Ann"})
    assert rendered == "{name} is Ann, {not closed, {0}, }"


def test_plain_strings_are_inserted_as_they_are(receipts: Translator) -> None:
    rendered = receipts.render_template(RECEIPT, "en", {"amount": "{day}", "day": "1234.5"})
    assert rendered == "Total {day} on 1234.5"


def test_unused_params_are_ignored(receipts: Translator) -> None:
    rendered = receipts.render_template(RECEIPT, "en", {"amount": 1, "day": "x", "extra": "y"})
    assert rendered == "Total 1 on x"


def test_a_missing_param_is_an_error_naming_it(receipts: Translator) -> None:
    with pytest.raises(TemplateError) as caught:
        receipts.render_template(RECEIPT, "zh_Hans", {"amount": 1})
    assert caught.value.code == "template_missing_param"
    assert caught.value.params == {"template": RECEIPT, "param": "day"}
    message = receipts.error_message(caught.value.code, "zh_Hans", caught.value.params)
    assert message == f"模板 {RECEIPT} 缺少参数 day"


def test_a_plural_template_without_a_count_is_a_missing_param(translator: Translator) -> None:
    with pytest.raises(TemplateError) as caught:
        translator.render_template("template.items_count", "en", {"count": 5})
    assert (caught.value.code, caught.value.params["param"]) == ("template_missing_param", "plural")


def test_an_unknown_template_is_an_error(translator: Translator) -> None:
    with pytest.raises(TemplateError) as caught:
        translator.render_template("template.nope", "ja", {})
    assert caught.value.code == "unknown_template"
    message = translator.error_message(caught.value.code, "ja", caught.value.params)
    assert message == "不明なテンプレートです：template.nope"


@pytest.mark.parametrize(
    "value",
    [
        {"number": "many"},
        {"number": True},
        {"date": "2026-13-40"},
        {"date": 20261122},
        {"datetime": "yesterday"},
        {"datetime": "2026-11-22T08:00:00Z", "format": "huge"},
        {"datetime": "2026-11-22T08:00:00Z", "tz": "Mars/Olympus"},
        {"currency": 9.99, "code": "XYZ"},
        {"currency": 9.99},
        {"percent": float("nan")},
        {"plural": "some"},
        {"number": 1, "percent": 2},
        {"number": 1, "fromat": "short"},
        {"color": "red"},
        None,
        True,
        [1, 2],
    ],
)
def test_bad_params_are_invalid_template_params(receipts: Translator, value: object) -> None:
    with pytest.raises(TemplateError) as caught:
        receipts.render_template(RECEIPT, "en", {"amount": value, "day": "x"})
    assert caught.value.code == "invalid_template_param"
    assert caught.value.params["param"] == "amount"
    message = receipts.error_message(caught.value.code, "en", caught.value.params)
    assert message == f"Invalid value for the parameter amount of template {RECEIPT}"


def test_two_plural_params_are_rejected(translator: Translator) -> None:
    with pytest.raises(TemplateError) as caught:
        translator.render_template(
            "template.items_count", "en", {"count": {"plural": 1}, "other": {"plural": 2}}
        )
    assert caught.value.code == "invalid_template_param"
