"""Audit every state-changing request under /api/v1 without each handler having to.

The action is the handler's name (the operation's id in the OpenAPI document), the target the
route's path parameters (or the id of what a create made), the result `ok` or the answer's
error code. A handler that records richer rows itself (login) marks the request as audited.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from kenkogo_master.admin.audit import OK, Actor
from kenkogo_master.api.auth import ACTOR, SAFE_METHODS, client_address
from kenkogo_master.api.errors import Handler
from kenkogo_master.keys import AUDIT
from kenkogo_master.protocol import codec

log = logging.getLogger(__name__)

AUDITED = web.RequestKey("kenkogo.audited", bool)
# Where the answer of a create names what it made, in order of preference.
TARGET_KEYS = ("id", "locale", "name")
MAX_PEEK = 64 * 1024  # larger answers are not read for a target or an error code


async def record_request(
    request: web.Request,
    action: str,
    *,
    actor: Actor | None = None,
    target: str = "",
    result: str = OK,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write this request's audit row now (and not again when it is answered)."""
    request[AUDITED] = True
    await request.app[AUDIT].record(
        actor or request[ACTOR],
        action,
        target=target,
        address=client_address(request),
        result=result,
        detail={"method": request.method, "path": request.path, **(detail or {})},
    )


def _answer(response: web.StreamResponse) -> dict[str, Any]:
    """Return a JSON answer's top level, or nothing (never kept: only a few keys are read)."""
    body = getattr(response, "body", None)
    if not isinstance(body, bytes) or len(body) > MAX_PEEK:
        return {}
    if response.content_type != "application/json":
        return {}
    try:
        decoded = codec.loads(body)
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _target(request: web.Request, answer: dict[str, Any]) -> str:
    """Return what the request acted on: its path parameters, else the id or name it answered."""
    if request.match_info:
        return "/".join(request.match_info.values())
    for key in TARGET_KEYS:
        if isinstance(answer.get(key), str):
            return str(answer[key])
    return ""


async def _audit(request: web.Request, response: web.StreamResponse) -> None:
    if request.get(AUDITED) or ACTOR not in request:
        return  # audited already, or nobody known acted (refused before authentication)
    match = request.match_info
    if match.http_exception is not None:
        return  # no such route: nothing was acted on
    answer = _answer(response)
    result = OK if response.status < 400 else str(answer.get("code") or response.status)
    action = getattr(match.route.handler, "__name__", None) or request.path
    try:
        await record_request(
            request,
            action,
            target=_target(request, answer),
            result=result,
            detail={"status": response.status},
        )
    except Exception:  # the action is done: a lost row is logged, not answered as a failure
        log.exception("audit row of %s %s lost", request.method, request.path)


@web.middleware
async def audit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Record every non-safe /api/v1 request once it is answered, refusals included."""
    if request.method in SAFE_METHODS or not request.path.startswith("/api/v1/"):
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        await _audit(request, exc)
        raise
    await _audit(request, response)
    return response
