"""JSON into REST handlers, validated at the edge (answers go out through `answers`)."""

from __future__ import annotations

from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.protocol import codec

M = TypeVar("M", bound=BaseModel)


def query_model(request: web.Request, model: type[M]) -> M:
    """Validate query parameters against `model` (raises ValidationError, answered 400)."""
    return model.model_validate(dict(request.query))


async def body_model(request: web.Request, model: type[M]) -> M:
    """Parse and validate a JSON body; non-JSON is answered `invalid_json`."""
    try:
        data = codec.loads(await request.read())
    except codec.TooDeep as exc:
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail=str(exc)) from None
    except ValueError:
        raise HubError(ErrorCode.INVALID_JSON) from None
    return model.model_validate(data)
