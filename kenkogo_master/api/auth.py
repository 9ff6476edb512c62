"""Authentication of /api/v1: a bearer token (read or admin scope) or a session cookie + CSRF."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiohttp import web

from kenkogo_master.admin.audit import Actor, ActorKind
from kenkogo_master.admin.csrf import HEADER, csrf_ok
from kenkogo_master.admin.sessions import Session
from kenkogo_master.api.cookies import clear_session_cookie, session_secret
from kenkogo_master.api.errors import Handler, error_response
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.keys import HUB, RUNNERS, SESSIONS, TOKENS
from kenkogo_master.store.tokens import Scope, TokenInfo


@dataclass(frozen=True, slots=True)
class SessionContext:
    """The browser session a request came with, and the cookie's secret that opened it."""

    session: Session
    secret: str


TOKEN_INFO = web.RequestKey("kenkogo.token", TokenInfo)
ACTOR = web.RequestKey("kenkogo.actor", Actor)
SESSION = web.RequestKey("kenkogo.session", SessionContext)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_PATH = "/api/v1/auth/login"
# The sign-in page's texts are public: the page is shown before anyone is signed in.
PUBLIC_PATHS = frozenset(
    {"/api/v1/openapi.json", "/api/v1/docs", LOGIN_PATH, "/api/v1/i18n/panel/login"}
)


def bearer_token(request: web.Request) -> str | None:
    """Return the token from `Authorization: Bearer <token>`."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


# A runner fetches the package revisions it is told to deploy with its own credential.
RUNNER_DOWNLOAD = re.compile(r"^/api/v1/packages/[^/]+/revisions/[0-9a-f]{64}/download$")


def _runner_download(request: web.Request, presented: str) -> TokenInfo | None:
    """Accept a runner's credential on a package download (GET) and nowhere else."""
    runners = request.app.get(RUNNERS)
    if runners is None or request.method != "GET" or not RUNNER_DOWNLOAD.match(request.path):
        return None
    runner_id = runners.credentials.runner_of(presented)
    # The download is an admin operation: the scope is admin's, on this one route only.
    return TokenInfo(runner_id, "runner", Scope.ADMIN) if runner_id is not None else None


def _unauthorized(request: web.Request) -> web.Response:
    response = error_response(request.app[HUB], request, HubError(ErrorCode.UNAUTHORIZED))
    response.headers["WWW-Authenticate"] = 'Bearer realm="kenkogo"'
    return response


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Require a token or a session on /api/v1; writes need the admin scope, or the CSRF token."""
    if not request.path.startswith("/api/") or request.path in PUBLIC_PATHS:
        return await handler(request)
    hub = request.app[HUB]
    if "Authorization" in request.headers:  # a script: its token decides, never a cookie
        presented = bearer_token(request)
        info = request.app[TOKENS].check(presented) if presented else None
        if info is None and presented:
            info = _runner_download(request, presented)
        if info is None:
            return _unauthorized(request)
        request[TOKEN_INFO] = info
        request[ACTOR] = Actor(ActorKind.TOKEN, info.id, info.name)
        if request.method not in SAFE_METHODS and info.scope is not Scope.ADMIN:
            error = HubError(ErrorCode.FORBIDDEN, scope=Scope.ADMIN.value)
            return error_response(hub, request, error)
        return await handler(request)
    secret = session_secret(request)
    session = await request.app[SESSIONS].check(secret) if secret else None
    if secret is None or session is None:
        response = _unauthorized(request)
        if secret is not None:  # expired or ended: the browser may as well forget it
            clear_session_cookie(response, request.secure)
        return response
    account = session.account
    request[TOKEN_INFO] = TokenInfo(account.id, account.name, Scope.ADMIN)
    request[ACTOR] = Actor(ActorKind.ACCOUNT, account.id, account.name)
    request[SESSION] = SessionContext(session, secret)
    if request.method not in SAFE_METHODS and not csrf_ok(secret, request.headers.get(HEADER)):
        return error_response(hub, request, HubError(ErrorCode.CSRF_FAILED))
    return await handler(request)


def token_of(request: web.Request) -> TokenInfo:
    """Return the token info the middleware attached (an account counts as an admin token)."""
    info: TokenInfo = request[TOKEN_INFO]
    return info


def client_address(request: web.Request) -> str:
    """Return the address the request came from (the peer; proxies are not trusted)."""
    return request.remote or ""
