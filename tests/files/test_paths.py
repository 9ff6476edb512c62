"""Paths as text: plain names pass, every spelling of a way out is refused before any I/O."""

from __future__ import annotations

import pytest

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.files.paths import is_within, join, parse, parse_name


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("", ()),
        ("a", ("a",)),
        ("bots/weather/config.json", ("bots", "weather", "config.json")),
        (".env", (".env",)),
        ("..hidden", ("..hidden",)),
        ("a..b/c...", ("a..b", "c...")),
        ("100%.txt", ("100%.txt",)),
        ("a%20b.txt", ("a%20b.txt",)),  # decodes to a plain name: kept as it is
        ("日本語/ファイル.txt", ("日本語", "ファイル.txt")),
        ("name~", ("name~",)),
        ("a" * 255, ("a" * 255,)),
        ("é" * 127, ("é" * 127,)),  # 254 bytes
    ],
)
def test_plain_paths_pass(path: str, parts: tuple[str, ...]) -> None:
    assert parse(path) == parts
    assert join(parts) == path


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("..", ErrorCode.PATH_OUTSIDE_ROOT),
        ("a/../b", ErrorCode.PATH_OUTSIDE_ROOT),
        ("./a", ErrorCode.PATH_OUTSIDE_ROOT),
        ("/etc", ErrorCode.PATH_OUTSIDE_ROOT),
        ("~", ErrorCode.PATH_OUTSIDE_ROOT),
        ("~user/x", ErrorCode.PATH_OUTSIDE_ROOT),
        ("a/~b", ErrorCode.PATH_OUTSIDE_ROOT),
        ("a\\b", ErrorCode.PATH_OUTSIDE_ROOT),
        ("%2e%2e/x", ErrorCode.PATH_OUTSIDE_ROOT),
        ("a%2fb", ErrorCode.PATH_OUTSIDE_ROOT),
        ("a%5Cb", ErrorCode.PATH_OUTSIDE_ROOT),
        ("%252e%252e", ErrorCode.PATH_OUTSIDE_ROOT),
        ("%25252e%25252e", ErrorCode.PATH_OUTSIDE_ROOT),
        ("%7eroot", ErrorCode.PATH_OUTSIDE_ROOT),
        ("a\x00b", ErrorCode.INVALID_PATH),
        ("a%00b", ErrorCode.INVALID_PATH),
        ("a%0Ab", ErrorCode.INVALID_PATH),
        ("%c0%ae%c0%ae", ErrorCode.INVALID_PATH),
        ("a\nb", ErrorCode.INVALID_PATH),
        ("a\x7fb", ErrorCode.INVALID_PATH),
        ("a/", ErrorCode.INVALID_PATH),
        ("a//b", ErrorCode.INVALID_PATH),
        ("a" * 256, ErrorCode.INVALID_PATH),
        ("é" * 128, ErrorCode.INVALID_PATH),  # 256 bytes
        ("/".join(["d" * 100] * 41), ErrorCode.INVALID_PATH),  # 4140 bytes
        ("\udc80", ErrorCode.INVALID_PATH),  # a lone surrogate has no bytes
    ],
)
def test_ways_out_and_malformed_paths_are_refused(path: str, code: ErrorCode) -> None:
    with pytest.raises(HubError) as caught:
        parse(path)
    assert caught.value.code is code
    assert caught.value.params["path"] == path


def test_an_uploaded_file_name_is_one_name() -> None:
    assert parse_name("folder", "report.pdf") == "report.pdf"
    for name, code in (
        ("a/b", ErrorCode.PATH_OUTSIDE_ROOT),
        ("..", ErrorCode.PATH_OUTSIDE_ROOT),
        ("", ErrorCode.INVALID_PATH),
    ):
        with pytest.raises(HubError) as caught:
            parse_name("folder", name)
        assert caught.value.code is code, name


def test_within() -> None:
    assert is_within(("a", "b"), ("a",))
    assert is_within(("a",), ("a",))
    assert not is_within(("ab",), ("a",))
    assert is_within(("a",), ())
