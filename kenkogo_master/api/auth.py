"""Bearer-token authentication of /api/v1, with read and admin scopes."""

from __future__ import annotations

from aiohttp import web

from kenkogo_master.api.errors import Handler, error_response
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.keys import HUB, TOKENS
from kenkogo_master.store.tokens import Scope, TokenInfo

TOKEN_INFO = web.RequestKey("kenkogo.token", TokenInfo)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_PATHS = frozenset({"/api/v1/openapi.json", "/api/v1/docs"})


def bearer_token(request: web.Request) -> str | None:
    """Return the token from `Authorization: Bearer <token>`."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Require a token on /api/v1; writes need the admin scope."""
    if not request.path.startswith("/api/") or request.path in PUBLIC_PATHS:
        return await handler(request)
    hub = request.app[HUB]
    presented = bearer_token(request)
    info = request.app[TOKENS].check(presented) if presented else None
    if info is None:
        response = error_response(hub, request, HubError(ErrorCode.UNAUTHORIZED))
        response.headers["WWW-Authenticate"] = 'Bearer realm="kenkogo"'
        return response
    if request.method not in _SAFE_METHODS and info.scope is not Scope.ADMIN:
        return error_response(hub, request, HubError(ErrorCode.FORBIDDEN, scope=Scope.ADMIN.value))
    request[TOKEN_INFO] = info
    return await handler(request)


def token_of(request: web.Request) -> TokenInfo:
    """Return the token info the middleware attached."""
    info: TokenInfo = request[TOKEN_INFO]
    return info
