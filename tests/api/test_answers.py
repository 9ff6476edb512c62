"""Handlers answer declared models: serialized once, and nothing they did not declare."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from pydantic import Field

from kenkogo_master.api.answers import AnswerError, Reply, Shape, answers, declared


class Point(Shape):
    """A point with an aliased key and a key left out when null."""

    x: int
    from_y: int = Field(alias="from")
    label: str | None
    note: str | None = Field(None, exclude_if=lambda value: value is None)


class Other(Shape):
    """Something else."""

    name: str


def request() -> web.Request:
    return make_mocked_request("GET", "/points")


@answers(Point)
async def get_point(request: web.Request) -> Point:
    """Show a point."""
    return Point(x=1, from_y=2, label=None)


@answers(Point, status=(200, 201))
async def put_point(request: web.Request) -> Reply[Point]:
    """Create a point."""
    return Reply(Point(x=1, from_y=2, label="a", note="n"), 201, {"ETag": '"v1"'})


async def test_an_answer_is_its_model_as_json_by_alias_with_its_nulls() -> None:
    response = await get_point(request())
    assert isinstance(response, web.Response)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert isinstance(response.body, bytes)
    assert orjson.loads(response.body) == {"x": 1, "from": 2, "label": None}


async def test_a_reply_carries_its_status_headers_and_a_finishing_touch() -> None:
    response = await put_point(request())
    assert isinstance(response, web.Response) and isinstance(response.body, bytes)
    assert response.status == 201 and response.headers["ETag"] == '"v1"'
    assert orjson.loads(response.body) == {"x": 1, "from": 2, "label": "a", "note": "n"}

    @answers(Other)
    async def with_cookie(request: web.Request) -> Reply[Other]:
        return Reply(Other(name="a"), finish=lambda r: r.set_cookie("k", "v"))

    response = await with_cookie(request())
    assert isinstance(response, web.Response)
    assert response.status == 200 and response.cookies["k"].value == "v"


async def test_the_declaration_is_kept_for_the_document_and_names_stay() -> None:
    found = declared(put_point)
    assert found is not None
    assert found.models == (Point,) and found.statuses == (200, 201)
    assert put_point.__name__ == "put_point" and put_point.__doc__ == "Create a point."
    assert declared(request) is None


async def test_an_undeclared_model_or_status_is_a_server_error() -> None:
    @answers(Point)
    async def wrong_model(request: web.Request) -> Any:
        return Other(name="a")

    @answers(Point)
    async def wrong_status(request: web.Request) -> Reply[Point]:
        return Reply(Point(x=1, from_y=2, label=None), 201)

    class Subpoint(Point):
        extra: int = 0

    @answers(Point)
    async def subclass(request: web.Request) -> Point:
        return Subpoint(x=1, from_y=2, label=None)

    for handler, words in (
        (wrong_model, "answered Other with 200"),
        (wrong_status, "answered Point with 201"),
        (subclass, "answered Subpoint"),
    ):
        with pytest.raises(AnswerError, match=words):
            await handler(request())


def test_data_a_model_refuses_is_the_servers_fault_not_a_validation_error() -> None:
    # The error funnel answers a ValidationError 400: a bad answer must not look like one.
    with pytest.raises(AnswerError, match="Point refused its data") as caught:
        Point(x="not a number", from_y=2, label=None)
    assert not isinstance(caught.value, ValueError)
    with pytest.raises(AnswerError, match="extra"):
        Point(x=1, from_y=2, label=None, extra=True)  # type: ignore[call-arg]


def test_a_declaration_names_at_least_one_model() -> None:
    with pytest.raises(ValueError, match="at least one"):
        answers()
