"""Sign in and out with an admin account, see who is signed in, change the password."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints

from kenkogo_master.admin.accounts import MAX_PASSWORD, AccountError
from kenkogo_master.admin.audit import Actor, ActorKind
from kenkogo_master.admin.bootstrap import forget_generated_password
from kenkogo_master.admin.csrf import csrf_token
from kenkogo_master.admin.sessions import Session
from kenkogo_master.admin.throttle import Verdict
from kenkogo_master.api.answers import Reply, answers
from kenkogo_master.api.audit_trail import record_request
from kenkogo_master.api.auth import ACTOR, SESSION, client_address, token_of
from kenkogo_master.api.cookies import clear_session_cookie, set_session_cookie
from kenkogo_master.api.json import body_model
from kenkogo_master.api.openapi_shapes_admin import Me, SessionInfo, SignedOut
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.keys import ACCOUNTS, LOGIN_THROTTLE, SESSIONS, SETTINGS

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

Password = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD)]


class LoginBody(BaseModel):
    """Body of POST /api/v1/auth/login."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Password


class PasswordBody(BaseModel):
    """Body of POST /api/v1/auth/password."""

    model_config = ConfigDict(extra="forbid", strict=True)

    old_password: Password
    new_password: Password


def _session_answer(session: Session, secret: str) -> SessionInfo:
    account = session.account
    return SessionInfo(
        id=account.id,
        name=account.name,
        csrf_token=csrf_token(secret),
        created_ms=session.created_ms,
        expires_ms=session.expires_ms,
        idle_expires_ms=session.idle_expires_ms,
        password_generated=account.password_generated,
    )


def _signed_in(request: web.Request, session: Session, secret: str) -> Reply[SessionInfo]:
    """Answer with the session and give the browser its cookie."""
    # Rounded up: a browser that dropped the cookie early would end the session early.
    max_age = math.ceil(request.app[SETTINGS].admin.absolute_timeout)
    secure = request.secure
    return Reply(
        _session_answer(session, secret),
        finish=lambda response: set_session_cookie(response, secure, secret, max_age),
    )


def _too_many(verdict: Verdict) -> HubError:
    """Refuse for a while; the error funnel sends Retry-After."""
    return HubError(ErrorCode.TOO_MANY_ATTEMPTS, retry_after=verdict.retry_after)


def _require_json(request: web.Request) -> None:
    """Refuse a body that is not declared JSON: a form of another site cannot declare it."""
    if request.content_type != "application/json":
        detail = "Content-Type must be application/json"
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)


@routes.post("/api/v1/auth/login")
@answers(SessionInfo)
async def login(request: web.Request) -> Reply[SessionInfo]:
    """Sign in with an account's name and password: sets the session cookie.

    The answer's `csrf_token` must be sent as `X-CSRF-Token` with every request that is not a
    GET. A wrong name and a wrong password are answered alike; repeated failures are slowed
    down and then refused for a while (429, Retry-After).
    """
    _require_json(request)
    body = await body_model(request, LoginBody)
    address = client_address(request)
    throttle = request.app[LOGIN_THROTTLE]
    tried = Actor(ActorKind.ANONYMOUS, "", body.name)
    verdict = throttle.begin(body.name, address)
    if verdict.refused:
        log.warning("login as %r from %s refused: too many failures", body.name, address)
        code = ErrorCode.TOO_MANY_ATTEMPTS.value
        await record_request(request, "login", actor=tried, target=body.name, result=code)
        raise _too_many(verdict)
    if verdict.delay:
        await asyncio.sleep(verdict.delay)
    account = await request.app[ACCOUNTS].authenticate(body.name, body.password)
    if account is None:
        log.warning("failed login as %r from %s", body.name, address)
        code = ErrorCode.INVALID_CREDENTIALS.value
        await record_request(request, "login", actor=tried, target=body.name, result=code)
        raise HubError(ErrorCode.INVALID_CREDENTIALS)
    throttle.succeeded(body.name, address)
    user_agent = request.headers.get("User-Agent", "")
    session, secret = await request.app[SESSIONS].start(account, address, user_agent)
    actor = Actor(ActorKind.ACCOUNT, account.id, account.name)
    await record_request(request, "login", actor=actor, target=account.name)
    log.info("%r signed in from %s", account.name, address)
    return _signed_in(request, session, secret)


@routes.post("/api/v1/auth/logout")
@answers(SignedOut)
async def logout(request: web.Request) -> Reply[SignedOut]:
    """End this browser session (its event streams close too); a bearer token has none."""
    context = request.get(SESSION)
    body = SignedOut(signed_out=context is not None, name=request[ACTOR].name)
    if context is None:
        return Reply(body)
    await request.app[SESSIONS].end(context.session.id)
    secure = request.secure
    return Reply(body, finish=lambda response: clear_session_cookie(response, secure))


@routes.get("/api/v1/auth/me")
@answers(Me)
async def me(request: web.Request) -> Me:
    """Tell who is calling: the signed-in account with its session, or the bearer token."""
    context = request.get(SESSION)
    if context is None:
        info = token_of(request)
        return Me(kind="token", id=info.id, name=info.name, scope=info.scope)
    session = _session_answer(context.session, context.secret)
    return Me(kind="account", scope="admin", **session.model_dump())


@routes.post("/api/v1/auth/password")
@answers(SessionInfo)
async def change_password(request: web.Request) -> Reply[SessionInfo]:
    """Change the signed-in account's password: every session of it ends, this one is renewed.

    The old password is required, and a wrong one counts as a failed login.
    """
    context = request.get(SESSION)
    if context is None:
        raise HubError(ErrorCode.SESSION_REQUIRED)
    body = await body_model(request, PasswordBody)
    accounts = request.app[ACCOUNTS]
    try:
        accounts.check_new_password(body.new_password)
    except AccountError as exc:
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail=f"new_password: {exc}") from None
    account = context.session.account
    address = client_address(request)
    throttle = request.app[LOGIN_THROTTLE]
    verdict = throttle.begin(account.name, address)
    if verdict.refused:
        raise _too_many(verdict)
    if verdict.delay:
        await asyncio.sleep(verdict.delay)
    if not await accounts.verify(account.id, body.old_password):
        log.warning("wrong old password for %r from %s", account.name, address)
        raise HubError(ErrorCode.WRONG_PASSWORD)
    throttle.succeeded(account.name, address)
    account, ended = await accounts.set_password(account.name, body.new_password)
    sessions = request.app[SESSIONS]
    sessions.ended(ended)
    forget_generated_password(account, request.app[SETTINGS].storage.data_dir)
    log.info(
        "%r changed their password from %s; %d sessions ended", account.name, address, len(ended)
    )
    renewed = await accounts.named(account.name)
    assert renewed is not None
    user_agent = request.headers.get("User-Agent", "")
    session, secret = await sessions.start(renewed, address, user_agent)
    return _signed_in(request, session, secret)
