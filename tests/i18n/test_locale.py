"""Locale tags from peers: normalizing, fallback chains and Accept-Language."""

from __future__ import annotations

import pytest

from kenkogo_master.i18n.locale import fallback_chain, normalize, parse_accept_language


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "en"),
        ("en-US", "en_US"),
        ("en_us", "en_US"),
        ("zh-Hans", "zh_Hans"),
        ("zh_hans", "zh_Hans"),
        ("ZH-hans-cn", "zh_Hans_CN"),
        ("zh-CN", "zh_Hans_CN"),
        ("zh-TW", "zh_Hant_TW"),
        ("ja-JP", "ja_JP"),
        (" ja ", "ja"),
        ("en_US.UTF-8", "en_US"),
    ],
)
def test_normalize_gives_babel_identifiers(tag: str, expected: str) -> None:
    assert normalize(tag) == expected


@pytest.mark.parametrize("tag", ["", "*", "xx", "klingon", "en US", "zh--CN", "und", "root", "12"])
def test_normalize_rejects_tags_that_name_no_locale(tag: str) -> None:
    assert normalize(tag) is None


def test_zh_cn_falls_back_through_simplified_chinese() -> None:
    assert fallback_chain("zh-CN", "en") == ["zh_Hans_CN", "zh_Hans", "zh", "en"]


def test_chain_walks_parents_then_the_default_and_its_parents() -> None:
    assert fallback_chain("zh_Hans_CN", "en_US") == ["zh_Hans_CN", "zh_Hans", "zh", "en_US", "en"]


def test_chain_does_not_repeat_the_default() -> None:
    assert fallback_chain("en_GB", "en") == ["en_GB", "en"]


@pytest.mark.parametrize("tag", [None, "", "garbage!!"])
def test_chain_of_nothing_or_garbage_is_the_default(tag: str | None) -> None:
    assert fallback_chain(tag, "ja") == ["ja"]


def test_accept_language_is_ordered_by_quality_then_position() -> None:
    header = "fr;q=0.5, zh-CN, en-US;q=0.8, ja;q=0.8, de;q=0"
    assert parse_accept_language(header) == ["zh_Hans_CN", "en_US", "ja", "fr"]


def test_accept_language_drops_wildcards_garbage_and_bad_weights() -> None:
    header = "*;q=0.9, xx-YY, en;q=2, ja;q=abc, zh-Hans;q=0.3, zh-hans;q=0.2"
    assert parse_accept_language(header) == ["zh_Hans"]


@pytest.mark.parametrize("header", [None, "", " , ,"])
def test_empty_accept_language_gives_nothing(header: str | None) -> None:
    assert parse_accept_language(header) == []
