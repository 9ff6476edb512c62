"""Translation over REST: texts, overrides, locales, chat locales and Accept-Language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kenkogo_master.keys import I18N
from tests.conftest import RunningMaster, StartMaster, stop_master
from tests.e2e.test_openapi import check_answer, fetch_document

NOT_FOUND = {"en": "Not found", "zh_Hans": "未找到", "ja": "見つかりません"}


async def missing_app(master: RunningMaster, accept_language: str | None = None) -> Any:
    """Ask for an app that does not exist and return the error body."""
    headers = {"Accept-Language": accept_language} if accept_language else {}
    status, body = await master.api("GET", "/api/v1/apps/nope", headers=headers)
    assert status == 404
    assert body["code"] == "not_found"
    return body["message"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, NOT_FOUND["en"]),
        ("ja", NOT_FOUND["ja"]),
        ("zh-CN,zh;q=0.9,en;q=0.8", NOT_FOUND["zh_Hans"]),
        ("fr-CH, fr;q=0.9, ja;q=0.8, en;q=0.7", NOT_FOUND["ja"]),
        ("en;q=0.2, zh-Hans;q=0.9", NOT_FOUND["zh_Hans"]),
        ("de, *;q=0.5", NOT_FOUND["en"]),
        ("!!garbage!!", NOT_FOUND["en"]),
    ],
)
async def test_rest_errors_follow_accept_language(
    master: RunningMaster, header: str | None, expected: str
) -> None:
    assert await missing_app(master, header) == expected


async def test_unauthorized_is_answered_in_the_caller_s_language(master: RunningMaster) -> None:
    async with master.http.get(
        master.url + "/api/v1/i18n/locales", headers={"Accept-Language": "zh-Hans"}
    ) as resp:
        assert resp.status == 401
        assert await resp.json() == {"code": "unauthorized", "message": "缺少令牌或令牌无效"}


async def test_locales_list_the_catalogs_named_in_themselves_and_for_the_caller(
    master: RunningMaster,
) -> None:
    status, body = await master.api(
        "GET", "/api/v1/i18n/locales", headers={"Accept-Language": "ja"}
    )
    assert status == 200
    rows = {item["locale"]: item for item in body["items"]}
    assert sorted(rows) == ["en", "ja", "zh_Hans"]
    assert rows["zh_Hans"]["name"] == "中文 (简体)"
    assert rows["zh_Hans"]["display_name"] == "中国語 (簡体字)"
    assert rows["en"]["default"] is True
    assert all(row["catalog"] for row in rows.values())


async def test_texts_are_searched_by_key_and_text_a_page_at_a_time(master: RunningMaster) -> None:
    status, found = await master.api("GET", "/api/v1/i18n/texts?locale=zh-Hans&q=已经")
    assert status == 200
    assert [(item["key"], item["text"]) for item in found["items"]] == [
        ("error.already_registered", "此连接已经注册过了")
    ]
    status, plural = await master.api("GET", "/api/v1/i18n/texts?locale=en&q=items_count")
    assert [(item["key"], item["text"]) for item in plural["items"]] == [
        ("template.items_count[0]", "{count} item"),
        ("template.items_count[1]", "{count} items"),
    ]
    status, everything = await master.api("GET", "/api/v1/i18n/texts?q=error.not_found")
    assert {item["locale"]: item["text"] for item in everything["items"]} == NOT_FOUND

    status, first = await master.api("GET", "/api/v1/i18n/texts?locale=en&limit=5")
    status, second = await master.api("GET", "/api/v1/i18n/texts?locale=en&limit=5&offset=5")
    assert first["count"] == second["count"] > 10
    assert len(first["items"]) == len(second["items"]) == 5
    assert not {i["key"] for i in first["items"]} & {i["key"] for i in second["items"]}
    status, far = await master.api("GET", "/api/v1/i18n/texts?offset=1000000000")
    assert status == 200 and far["items"] == []
    status, body = await master.api("GET", f"/api/v1/i18n/texts?offset={10**21}")
    assert status == 400 and body["code"] == "invalid_payload"  # not a 500 from the JSON codec


async def test_an_override_is_used_at_once_and_survives_a_restart(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master = await start_master(tmp_path / "data")
    status, view = await master.api(
        "PUT", "/api/v1/i18n/texts/ja/error.not_found", json={"text": "ありません"}
    )
    assert status == 200
    assert view["text"] == "ありません"
    assert view["catalog_text"] == NOT_FOUND["ja"]
    assert view["overridden"] is True
    assert await missing_app(master, "ja") == "ありません"
    assert await missing_app(master, "en") == NOT_FOUND["en"]
    await stop_master(master)

    again = await start_master(tmp_path / "data")
    assert await missing_app(again, "ja") == "ありません"
    status, view = await again.api("DELETE", "/api/v1/i18n/texts/ja/error.not_found")
    assert status == 200
    assert (view["text"], view["overridden"]) == (NOT_FOUND["ja"], False)
    assert await missing_app(again, "ja") == NOT_FOUND["ja"]


async def test_an_added_locale_falls_back_until_its_texts_are_overridden(
    master: RunningMaster,
) -> None:
    status, created = await master.api("POST", "/api/v1/i18n/locales", json={"locale": "fr-FR"})
    assert status == 201
    assert (created["locale"], created["catalog"], created["name"]) == (
        "fr_FR",
        False,
        "français (France)",
    )
    status, _ = await master.api("POST", "/api/v1/i18n/locales", json={"locale": "fr_FR"})
    assert status == 200

    assert await missing_app(master, "fr-FR") == NOT_FOUND["en"]
    status, view = await master.api("GET", "/api/v1/i18n/texts/fr_FR/error.not_found")
    assert (view["text"], view["source"], view["catalog_text"]) == (NOT_FOUND["en"], "en", None)

    status, _ = await master.api(
        "PUT", "/api/v1/i18n/texts/fr_FR/error.not_found", json={"text": "Introuvable"}
    )
    assert status == 200
    assert await missing_app(master, "fr-FR,en;q=0.5") == "Introuvable"

    status, _ = await master.api("DELETE", "/api/v1/i18n/locales/fr_FR")
    assert status == 200
    assert await missing_app(master, "fr-FR") == NOT_FOUND["en"]
    status, locales = await master.api("GET", "/api/v1/i18n/locales")
    assert [item["locale"] for item in locales["items"]] == ["en", "ja", "zh_Hans"]


async def test_a_plural_form_no_fallback_has_is_null_as_documented(master: RunningMaster) -> None:
    # Russian has three plural forms, English two: the third has no text to fall back on.
    status, _ = await master.api("POST", "/api/v1/i18n/locales", json={"locale": "ru"})
    assert status == 201
    document = await fetch_document(master)
    path = "/api/v1/i18n/texts/ru/template.items_count[2]"
    status, view = await master.api("GET", path)
    assert status == 200, view
    assert (view["text"], view["source"], view["overridden"]) == (None, None, False)
    check_answer(document, "GET", "/api/v1/i18n/texts/{locale}/{key}", status, view)
    status, page = await master.api(
        "GET", "/api/v1/i18n/texts", params={"locale": "ru", "q": "items_count"}
    )
    assert status == 200 and None in [item["text"] for item in page["items"]], page
    check_answer(document, "GET", "/api/v1/i18n/texts", status, page)
    status, view = await master.api("PUT", path, json={"text": "{count} штук"})
    assert status == 200 and (view["text"], view["source"]) == ("{count} штук", "ru"), view


async def test_chat_locales_are_set_read_and_cleared(master: RunningMaster) -> None:
    path = "/api/v1/chats/qq/123/locale"
    status, body = await master.api("GET", path, headers={"Accept-Language": "ja"})
    assert (status, body["code"], body["message"]) == (404, "not_found", NOT_FOUND["ja"])

    status, body = await master.api("PUT", path, json={"locale": "zh-hans"})
    assert (status, body) == (200, {"platform": "qq", "chat_id": "123", "locale": "zh_Hans"})
    assert master.app[I18N].chat_locale("qq", "123", "ja") == "zh_Hans"
    status, body = await master.api("GET", path)
    assert body["locale"] == "zh_Hans"
    status, listing = await master.api("GET", "/api/v1/i18n/chat-locales")
    assert listing["items"] == [{"platform": "qq", "chat_id": "123", "locale": "zh_Hans"}]

    status, _ = await master.api("DELETE", path)
    assert status == 200
    assert master.app[I18N].chat_locale("qq", "123", "ja") == "ja"
    status, _ = await master.api("DELETE", path)
    assert status == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "detail"),
    [
        ("PUT", "/api/v1/i18n/texts/en/error.not_found", {"text": "Gone {what"}, "unmatched '{'"),
        ("PUT", "/api/v1/i18n/texts/en/error.not_found", {"text": "Gone {where}"}, "{where}"),
        ("PUT", "/api/v1/i18n/texts/en/error.nope", {"text": "Nope"}, "unknown key"),
        ("PUT", "/api/v1/i18n/texts/en/Not%20A%20Key", {"text": "x"}, "not a text key"),
        ("PUT", "/api/v1/i18n/texts/xx-!!/error.not_found", {"text": "x"}, "not a locale"),
        ("PUT", "/api/v1/i18n/texts/en/error.not_found", {"text": ""}, "text"),
        ("PUT", "/api/v1/i18n/texts/en/error.not_found", {"txt": "x"}, "text"),
        ("PUT", "/api/v1/i18n/texts/ja/template.items_count[1]", {"text": "x"}, "plural form"),
        ("PUT", "/api/v1/i18n/texts/en/error.not_found[0]", {"text": "x"}, "no plural forms"),
        ("POST", "/api/v1/i18n/locales", {"locale": "klingon!"}, "not a locale"),
        ("PUT", "/api/v1/chats/qq/1/locale", {"locale": "nope-nope-nope"}, "not a locale"),
        ("DELETE", "/api/v1/i18n/locales/ja", None, "has a catalog"),
        ("GET", "/api/v1/i18n/texts?limit=0", None, "limit"),
    ],
)
async def test_bad_input_is_answered_400_with_code_and_message(
    master: RunningMaster, method: str, path: str, body: Any, detail: str
) -> None:
    status, answer = await master.api(method, path, json=body)
    assert status == 400
    assert set(answer) == {"code", "message"}
    assert answer["code"] == "invalid_payload"
    assert detail in answer["message"]


async def test_a_body_that_is_not_json_is_answered_invalid_json(master: RunningMaster) -> None:
    status, answer = await master.api(
        "PUT",
        "/api/v1/i18n/texts/en/error.not_found",
        data=b"{nope",
        headers={"Accept-Language": "ja"},
    )
    assert (status, answer["code"]) == (400, "invalid_json")
    assert answer["message"] != "error.invalid_json"


async def test_a_new_template_key_can_be_added_and_removed(master: RunningMaster) -> None:
    path = "/api/v1/i18n/texts/en/template.greeting"
    status, view = await master.api("PUT", path, json={"text": "Hello {name}, {{literal}}"})
    assert (status, view["text"], view["catalog_text"]) == (200, "Hello {name}, {{literal}}", None)
    status, other = await master.api("GET", "/api/v1/i18n/texts/ja/template.greeting")
    assert (other["text"], other["source"]) == ("Hello {name}, {{literal}}", "en")
    status, _ = await master.api("DELETE", path)
    assert status == 200
    status, gone = await master.api("GET", path)
    assert (status, gone["code"]) == (404, "not_found")
