"""CQ-code strings and segment arrays, following OneBot v11 message/string.md and array.md."""

from __future__ import annotations

import random

import pytest

from kenkogo_master.protocol.cq_code import (
    Segment,
    escape_param,
    escape_text,
    normalize_segments,
    parse,
    plain_text,
    to_cq_string,
    unescape_param,
    unescape_text,
)


def text(value: str) -> Segment:
    return {"type": "text", "data": {"text": value}}


# --- escaping -------------------------------------------------------------------------------


def test_text_escaping_matches_the_spec_example() -> None:
    raw = "- [x] 使用 `&data` 获取地址"
    escaped = "- &#91;x&#93; 使用 `&amp;data` 获取地址"
    assert escape_text(raw) == escaped
    assert unescape_text(escaped) == raw


def test_text_escaping_leaves_commas_alone() -> None:
    assert escape_text("a,b") == "a,b"
    assert unescape_text("a&#44;b") == "a&#44;b"


def test_param_escaping_covers_the_comma() -> None:
    assert escape_param("震惊,小伙[睡觉]&") == "震惊&#44;小伙&#91;睡觉&#93;&amp;"
    assert unescape_param("震惊&#44;小伙&#91;睡觉&#93;&amp;") == "震惊,小伙[睡觉]&"


@pytest.mark.parametrize(
    ("escaped", "raw"),
    [("&amp;#91;", "&#91;"), ("&amp;amp;", "&amp;"), ("&amp;&#93;", "&]"), ("&#9", "&#9")],
)
def test_unescaping_is_a_single_pass(escaped: str, raw: str) -> None:
    assert unescape_param(escaped) == raw
    assert unescape_text(escaped) == raw


# --- parsing --------------------------------------------------------------------------------


def test_parse_spec_example() -> None:
    assert parse("[CQ:face,id=178]看看我刚拍的照片[CQ:image,file=123.jpg]") == [
        {"type": "face", "data": {"id": "178"}},
        text("看看我刚拍的照片"),
        {"type": "image", "data": {"file": "123.jpg"}},
    ]


def test_parse_code_without_params() -> None:
    assert parse("[CQ:shake]") == [{"type": "shake", "data": {}}]


def test_parse_splits_each_param_at_its_first_equals_sign() -> None:
    assert parse("[CQ:share,title=标题中有=等号,url=http://baidu.com]") == [
        {"type": "share", "data": {"title": "标题中有=等号", "url": "http://baidu.com"}}
    ]


def test_parse_unescapes_params_and_text() -> None:
    message = (
        "看&#91;1&#93; &amp; &#44;"
        "[CQ:share,title=震惊&#44;小伙睡觉前居然...,url=http://baidu.com/?a=1&amp;b=2]"
    )
    assert parse(message) == [
        text("看[1] & &#44;"),
        {
            "type": "share",
            "data": {"title": "震惊,小伙睡觉前居然...", "url": "http://baidu.com/?a=1&b=2"},
        },
    ]


def test_parse_mixed_message() -> None:
    assert parse("[CQ:at,qq=123] 天气 北京") == [
        {"type": "at", "data": {"qq": "123"}},
        text(" 天气 北京"),
    ]


def test_parse_keeps_empty_values_and_spaces() -> None:
    assert parse("[CQ:image,file=a b,summary=]") == [
        {"type": "image", "data": {"file": "a b", "summary": ""}}
    ]


def test_parse_tolerates_trailing_and_doubled_commas() -> None:
    assert parse("[CQ:shake,]") == [{"type": "shake", "data": {}}]
    assert parse("[CQ:at,,qq=1]") == [{"type": "at", "data": {"qq": "1"}}]


def test_parse_text_code_becomes_text() -> None:
    assert parse("a[CQ:text,text=b&#44;c]d") == [text("ab,cd")]


def test_parse_empty_string() -> None:
    assert parse("") == []


@pytest.mark.parametrize(
    "message",
    [
        "[CQ:",
        "[CQ:at,qq=123",
        "hello [CQ:image,file=a.jpg",
        "[CQ:]",
        "[CQ:,qq=1]",
        "[CQ:at,qq]",
        "[CQ:at,=1]",
        "[CQ:a b,qq=1]",
        "[cq:at,qq=1]",
        "[CQ at,qq=1]",
        "a[b]c",
        "]]][[[",
        "[CQ:at,qq=1,flag]",
    ],
)
def test_malformed_codes_are_text(message: str) -> None:
    assert parse(message) == [text(message)]


def test_malformed_code_text_is_still_unescaped_and_merged() -> None:
    assert parse("x&amp;[CQ:at,qq]y&#93;") == [text("x&[CQ:at,qq]y]")]


def test_an_unclosed_code_before_a_good_one_is_text() -> None:
    assert parse("[CQ:at,qq=1[CQ:face,id=2]!") == [
        text("[CQ:at,qq=1"),
        {"type": "face", "data": {"id": "2"}},
        text("!"),
    ]


def test_duplicate_param_keeps_the_last_value() -> None:
    assert parse("[CQ:at,qq=1,qq=2]") == [{"type": "at", "data": {"qq": "2"}}]


# --- writing --------------------------------------------------------------------------------


def test_to_cq_string_escapes_text_and_params() -> None:
    segments = [
        text("[1] & a,b"),
        {"type": "share", "data": {"title": "a,b[c]&d", "url": "http://x/?a=1&b=2"}},
        {"type": "shake", "data": {}},
    ]
    assert to_cq_string(segments) == (
        "&#91;1&#93; &amp; a,b"
        "[CQ:share,title=a&#44;b&#91;c&#93;&amp;d,url=http://x/?a=1&amp;b=2]"
        "[CQ:shake]"
    )


def test_to_cq_string_writes_non_string_values_as_strings() -> None:
    assert to_cq_string([{"type": "face", "data": {"id": 178}}]) == "[CQ:face,id=178]"


@pytest.mark.parametrize("key", ["", "a,b", "a=b", "a]", "[a"])
def test_to_cq_string_rejects_unwritable_param_names(key: str) -> None:
    with pytest.raises(ValueError, match="parameter name"):
        to_cq_string([{"type": "at", "data": {key: "1"}}])


@pytest.mark.parametrize("kind", ["", "a,b", "a]b", "a b", 5, None])
def test_to_cq_string_rejects_unwritable_types(kind: object) -> None:
    with pytest.raises(ValueError, match="type"):
        to_cq_string([{"type": kind, "data": {}}])


@pytest.mark.parametrize(
    "segments",
    [
        [text("plain")],
        [text("&#91; is not [ and &amp; is not &")],
        [{"type": "at", "data": {"qq": "all"}}, text(" hi")],
        [{"type": "share", "data": {"title": "&#44;,,[]&amp;", "url": "a=b=c"}}],
        [text("x"), {"type": "image", "data": {"file": ""}}, text("y")],
        [{"type": "reply", "data": {"id": "-5"}}, {"type": "at", "data": {"qq": "1"}}],
        [text("[CQ:at,qq=1]")],
    ],
)
def test_segments_round_trip(segments: list[Segment]) -> None:
    assert parse(to_cq_string(segments)) == segments


_ALPHABET = "&[],=;#19CQ:qa 文"


def _random_segments(rng: random.Random) -> list[Segment]:
    segments: list[Segment] = []
    for _ in range(rng.randint(0, 5)):
        if rng.random() < 0.5 and (not segments or segments[-1]["type"] != "text"):
            value = "".join(rng.choices(_ALPHABET, k=rng.randint(1, 12)))
            segments.append(text(value))
        else:
            keys = rng.sample(["qq", "id", "file", "url", "&k"], rng.randint(0, 3))
            data = {k: "".join(rng.choices(_ALPHABET, k=rng.randint(0, 8))) for k in keys}
            segments.append({"type": rng.choice(["at", "face", "image", "x.y-z"]), "data": data})
    return segments


def test_random_segments_round_trip() -> None:
    rng = random.Random(11)
    for _ in range(2000):
        segments = _random_segments(rng)
        assert parse(to_cq_string(segments)) == segments


def test_random_strings_parse_without_error_and_reparse_the_same() -> None:
    rng = random.Random(7)
    pieces = ["[CQ:", "at", ",", "qq=", "1", "]", "[", "&amp;", "&#44;", "&#91;", "x", "=", " "]
    for _ in range(3000):
        message = "".join(rng.choices(pieces, k=rng.randint(0, 14)))
        segments = parse(message)
        assert all(s["type"] != "text" or s["data"]["text"] for s in segments)
        assert parse(to_cq_string(segments)) == segments


# --- plain text and arrays ------------------------------------------------------------------


def test_plain_text_joins_only_text_segments() -> None:
    segments = parse("[CQ:at,qq=1] 天气[CQ:face,id=2] 北京")
    assert plain_text(segments) == " 天气 北京"


def test_plain_text_skips_broken_segments() -> None:
    assert plain_text([{"type": "text"}, {"type": "text", "data": {"text": 5}}, text("ok")]) == "ok"
    assert plain_text([]) == ""


def test_normalize_turns_values_into_strings() -> None:
    segments = normalize_segments(
        [
            {"type": "face", "data": {"id": 178, "big": False, "ratio": 1.5}},
            {"type": "node", "data": {"content": [{"type": "text", "data": {"text": "文"}}]}},
            {"type": "image", "data": {"file": "a.jpg", "url": None}},
            {"type": "shake", "data": None},
            {"type": "dice"},
            {"type": "text", "data": {}},
        ]
    )
    assert segments == [
        {"type": "face", "data": {"id": "178", "big": "false", "ratio": "1.5"}},
        {"type": "node", "data": {"content": '[{"type":"text","data":{"text":"文"}}]'}},
        {"type": "image", "data": {"file": "a.jpg"}},
        {"type": "shake", "data": {}},
        {"type": "dice", "data": {}},
        text(""),
    ]


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        ({"type": "text", "data": {"text": "a"}}, "must be a list, not object"),
        ("hello", "must be a list, not string"),
        (5, "must be a list, not number"),
        (None, "must be a list, not null"),
        (["a"], "segment 0 must be an object, not string"),
        ([{"type": "at", "data": {}}, 3], "segment 1 must be an object, not number"),
        ([{"data": {}}], "segment 0 needs a 'type'"),
        ([{"type": "", "data": {}}], "segment 0 needs a 'type'"),
        ([{"type": 1, "data": {}}], "segment 0 needs a 'type'"),
        ([{"type": "at", "data": [1]}], "'data' must be an object, not array"),
        ([{"type": "at", "data": "qq=1"}], "'data' must be an object, not string"),
    ],
)
def test_normalize_rejects_garbage(items: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):
        normalize_segments(items)
