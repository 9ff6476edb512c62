"""Every JSON answer of the REST API is a declared pydantic model, written once.

A handler decorated with `@answers(Model)` returns a `Model` instance (or a `Reply` carrying
one with a status and headers); the decorator serializes it with orjson, and the OpenAPI
document reads the same declaration. A handler cannot answer a model or a status it did not
declare, so an answer and its documented schema cannot drift apart.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_DECLARED = "_kenkogo_answers"


class AnswerError(RuntimeError):
    """A handler built an answer its model refuses, or one it did not declare: a bug, a 500."""


class Shape(BaseModel):
    """A response body, every key named: the run against the server catches one left out.

    Clients should still ignore keys they do not know: later versions may add some.
    """

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        # Bad data here is the server's fault, never the client's: keep it out of the
        # funnel that answers a ValidationError with 400.
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise AnswerError(f"{type(self).__name__} refused its data: {exc}") from exc


def absent(value: object) -> bool:
    """Tell whether an optional key is left out of its answer (`exclude_if`): it is when null."""
    return value is None


S = TypeVar("S", bound=Shape, covariant=True)
M = TypeVar("M", bound=Shape)


@dataclass(frozen=True, slots=True)
class Reply(Generic[S]):
    """An answer with what the model alone does not say: its status, headers and cookies."""

    body: S
    status: int | None = None  # None: the first status the handler declared
    headers: Mapping[str, str] = field(default_factory=dict)
    finish: Callable[[web.Response], None] | None = None  # e.g. sets a cookie


@dataclass(frozen=True, slots=True)
class Declared:
    """The models and statuses a handler answers with, as `@answers` declared them."""

    models: tuple[type[BaseModel], ...]
    statuses: tuple[int, ...]


def model_response(
    body: Shape, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Serialize an answer model with orjson (keys by alias, null fields kept unless excluded)."""
    data = orjson.dumps(body.model_dump(mode="json", by_alias=True))
    response = web.Response(
        body=data, status=status, content_type="application/json", charset="utf-8"
    )
    if headers:
        response.headers.update(headers)
    return response


def answers(
    *models: type[M], status: int | tuple[int, ...] = 200
) -> Callable[[Callable[[web.Request], Awaitable[M | Reply[M]]]], Handler]:
    """Declare what a handler answers: one of `models`, with one of the statuses."""
    if not models:
        raise ValueError("declare at least one model")
    statuses = (status,) if isinstance(status, int) else status
    declared = Declared(tuple(models), statuses)

    def declare(handler: Callable[[web.Request], Awaitable[M | Reply[M]]]) -> Handler:
        @functools.wraps(handler)
        async def respond(request: web.Request) -> web.Response:
            result = await handler(request)
            reply = result if isinstance(result, Reply) else Reply(result)
            code = statuses[0] if reply.status is None else reply.status
            # Exact classes: a subclass would carry a schema the document does not show.
            if type(reply.body) not in declared.models or code not in statuses:
                raise AnswerError(
                    f"{handler.__name__} answered {type(reply.body).__name__} with {code}, "
                    f"but declared {[m.__name__ for m in declared.models]} with {statuses}"
                )
            response = model_response(reply.body, code, reply.headers)
            if reply.finish is not None:
                reply.finish(response)
            return response

        setattr(respond, _DECLARED, declared)
        return respond

    return declare


def declared(handler: object) -> Declared | None:
    """Return what a routed handler declared with `@answers`, if it did."""
    found = getattr(handler, _DECLARED, None)
    return found if isinstance(found, Declared) else None
