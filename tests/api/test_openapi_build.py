"""Building the OpenAPI document from routes and pydantic models."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kenkogo_master.api.answers import Reply, Shape, answers
from kenkogo_master.api.openapi_build import Components, Doc, build_document, query_parameters


class Colour(BaseModel):
    """A body with a colour."""

    model_config = ConfigDict(extra="forbid")

    colour: Literal["red", "green"]


class Filter(BaseModel):
    """Query of a listing."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: int | None = Field(None, alias="from", description="where to start")
    name: Annotated[str, StringConstraints(max_length=8)] | None = None
    limit: int = Field(10, ge=1, le=100)


class Listing(Shape):
    """What a listing answers."""

    items: list[Colour]


class Painted(Shape):
    """What painting answers."""

    colour: str


class Repainted(Shape):
    """What painting answers when the thing had a colour already."""

    colour: str
    was: str


@answers(Listing)
async def list_things(request: web.Request) -> Listing:
    """List things.

    Newest first.
    """
    raise NotImplementedError


@answers(Painted, Repainted, status=(200, 201))
async def paint_thing(request: web.Request) -> Reply[Painted | Repainted]:
    """Paint one thing."""
    raise NotImplementedError


async def download_thing(request: web.Request) -> web.StreamResponse:
    """Download one thing: not JSON, so its Doc says what it is."""
    raise NotImplementedError


async def undocumented(request: web.Request) -> web.Response:
    """Nobody wrote this one down."""
    raise NotImplementedError


def build(docs: dict[tuple[str, str], Doc]) -> dict[str, object]:
    app = web.Application()
    app.router.add_get("/things", list_things)
    app.router.add_put("/things/{id}", paint_thing)
    app.router.add_get("/things/{id}/content", download_thing)
    app.router.add_get("/secret", undocumented)
    return build_document(app.router.routes(), docs, {"title": "t", "version": "1"}, [], {})


def test_query_parameters_come_from_the_model_with_aliases_and_without_null() -> None:
    parameters = query_parameters(Filter, Components())
    assert parameters == [
        {
            "name": "from",
            "in": "query",
            "required": False,
            "description": "where to start",
            "schema": {"type": "integer"},
        },
        {
            "name": "name",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "maxLength": 8},
        },
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
        },
    ]


def test_operations_carry_models_statuses_and_docstrings() -> None:
    document = build(
        {
            ("GET", "/things"): Doc("things", query=Filter),
            ("PUT", "/things/{id}"): Doc("things", body=Colour, errors=(404,)),
        }
    )
    paths = document["paths"]
    assert isinstance(paths, dict)
    listing = paths["/things"]["get"]
    assert listing["summary"] == "List things."
    assert listing["description"].startswith("Newest first.")
    assert set(listing["responses"]) == {"200", "400", "401"}
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Listing"
    }
    paint = paths["/things/{id}"]["put"]
    assert paint["parameters"][0] == {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
    }
    assert set(paint["responses"]) == {"200", "201", "400", "401", "403", "404", "413"}
    assert paint["responses"]["201"]["content"]["application/json"]["schema"] == {
        "anyOf": [
            {"$ref": "#/components/schemas/Painted"},
            {"$ref": "#/components/schemas/Repainted"},
        ]
    }
    assert "Needs a token with the `admin` scope, or a signed-in session." in paint["description"]
    schemas = document["components"]["schemas"]  # type: ignore[index]
    assert {"Listing", "Colour", "Painted", "Repainted", "Error"} <= set(schemas)
    assert "/secret" not in paths


def test_two_models_with_one_name_are_refused() -> None:
    components = Components()
    components.ref(Colour, "validation")

    class Colour2(BaseModel):
        shade: int

    Colour2.__name__ = "Colour"
    with pytest.raises(ValueError, match="Colour"):
        components.ref(Colour2, "validation")


def test_an_answer_that_is_not_json_is_described_by_its_doc() -> None:
    binary = {"type": "string", "format": "binary"}
    document = build(
        {
            ("GET", "/things/{id}/content"): Doc(
                "things", media="*/*", ok_schema=binary, success=(200, 206)
            )
        }
    )
    paths = document["paths"]
    assert isinstance(paths, dict)
    download = paths["/things/{id}/content"]["get"]
    assert download["responses"]["206"]["content"] == {"*/*": {"schema": binary}}


def test_a_json_operation_without_a_declared_model_is_refused() -> None:
    with pytest.raises(ValueError, match="download_thing answers JSON: declare its model"):
        build({("GET", "/things/{id}/content"): Doc("things")})
    with pytest.raises(ValueError, match="download_thing answers JSON"):
        build({("GET", "/things/{id}/content"): Doc("things", (Listing,))})


@pytest.mark.parametrize(
    "doc",
    [
        Doc("things", (Listing,)),
        Doc("things", success=(201,)),
        Doc("things", ok_schema={"type": "object"}),
        Doc("things", media="text/plain"),
    ],
)
def test_an_answer_is_declared_in_one_place_only(doc: Doc) -> None:
    with pytest.raises(ValueError, match="list_things declares its answer with @answers"):
        build({("GET", "/things"): doc})
