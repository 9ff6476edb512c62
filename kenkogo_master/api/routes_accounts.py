"""REST resources for admin accounts: list, create, disable and enable (admin scope).

Two rules keep the panel reachable: the last enabled account cannot be disabled, and a signed-in
person cannot disable the account they are signed in with (another account, or `python main.py
admin disable` on the Master's machine, can). Every change is audited with the account's name as
its target, as the `admin` commands audit theirs; passwords never reach the trail.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kenkogo_master.admin.accounts import (
    MAX_PASSWORD,
    NAME,
    Account,
    AccountError,
    AccountExists,
    LastAccount,
    NoSuchAccount,
)
from kenkogo_master.admin.bootstrap import forget_generated_password
from kenkogo_master.api.answers import answers
from kenkogo_master.api.audit_trail import record_request
from kenkogo_master.api.auth import ACTOR, SESSION
from kenkogo_master.api.json import body_model
from kenkogo_master.api.openapi_shapes_admin import AccountChanged, AccountItem, AccountList
from kenkogo_master.api.routes_tokens import require_admin
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.keys import ACCOUNTS, SESSIONS, SETTINGS

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

AccountName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=f"^{NAME.pattern}$"),
    Field(description="1 to 64 letters, digits and _ . @ -, starting with a letter or digit"),
]
T = TypeVar("T")


class AccountCreate(BaseModel):
    """Body of POST /api/v1/accounts."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: AccountName
    password: Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD)] = Field(
        description="at least [admin] min_password_length characters"
    )


class AccountPath(BaseModel):
    """Path of POST /api/v1/accounts/{name}/disable and /enable."""

    name: AccountName


def _item(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "disabled": account.disabled,
        "password_generated": account.password_generated,
        "created_ms": account.created_ms,
        "password_changed_ms": account.password_changed_ms,
        "last_login_ms": account.last_login_ms,
    }


async def _audited(
    request: web.Request,
    action: str,
    name: str,
    work: Callable[[], Awaitable[tuple[T, dict[str, Any]]]],
) -> T:
    """Run `work` and audit it with the account's name as target, refusals included."""
    try:
        result, detail = await work()
    except HubError as exc:
        await record_request(request, action, target=name, result=exc.code.value)
        raise
    await record_request(request, action, target=name, detail=detail)
    return result


@routes.get("/api/v1/accounts")
@answers(AccountList)
async def list_accounts(request: web.Request) -> AccountList:
    """List every account with its state and last sign-in; never a password."""
    require_admin(request)
    items = [AccountItem(**_item(account)) for account in await request.app[ACCOUNTS].listing()]
    return AccountList(items=items, count=len(items))


@routes.post("/api/v1/accounts")
@answers(AccountItem, status=201)
async def create_account(request: web.Request) -> AccountItem:
    """Create an account that can sign in to the panel with the password given."""
    require_admin(request)
    body = await body_model(request, AccountCreate)
    accounts = request.app[ACCOUNTS]

    async def create() -> tuple[AccountItem, dict[str, Any]]:
        try:
            account = await accounts.create(body.name, body.password)
        except AccountExists:
            raise HubError(ErrorCode.ALREADY_EXISTS, path=body.name) from None
        except AccountError as exc:
            raise HubError(ErrorCode.INVALID_PAYLOAD, detail=f"password: {exc}") from None
        return AccountItem(**_item(account)), {}

    created = await _audited(request, "create_account", body.name, create)
    log.info("%s created the account %r", request[ACTOR].name or request[ACTOR].kind, body.name)
    return created


async def _set_disabled(request: web.Request, disabled: bool) -> AccountChanged:
    require_admin(request)
    name = AccountPath.model_validate(dict(request.match_info)).name
    accounts, sessions = request.app[ACCOUNTS], request.app[SESSIONS]
    context = request.get(SESSION)
    verb = "disable" if disabled else "enable"

    async def change() -> tuple[AccountChanged, dict[str, Any]]:
        if disabled and context is not None and context.session.account.name == name:
            raise HubError(ErrorCode.OWN_ACCOUNT, name=name)
        try:
            account, ended = await accounts.set_disabled(name, disabled, keep_one=True)
        except NoSuchAccount:
            raise HubError(ErrorCode.NOT_FOUND, what="account", id=name) from None
        except LastAccount:
            raise HubError(ErrorCode.LAST_ACCOUNT, name=name) from None
        sessions.ended(ended)  # their event streams close now
        if disabled:
            forget_generated_password(account, request.app[SETTINGS].storage.data_dir)
        answer = AccountChanged(**_item(account), sessions_ended=len(ended))
        return answer, {"sessions_ended": len(ended)}

    changed = await _audited(request, f"{verb}_account", name, change)
    log.info(
        "%s %sd the account %r; %d sessions ended",
        request[ACTOR].name or request[ACTOR].kind,
        verb,
        name,
        changed.sessions_ended,
    )
    return changed


@routes.post("/api/v1/accounts/{name}/disable")
@answers(AccountChanged)
async def disable_account(request: web.Request) -> AccountChanged:
    """Disable an account: it cannot sign in, and its sessions end at once.

    The last enabled account cannot be disabled (409 `last_account`), nor the account the
    request's own session belongs to (409 `own_account`). Disabling a disabled one changes
    nothing.
    """
    return await _set_disabled(request, True)


@routes.post("/api/v1/accounts/{name}/enable")
@answers(AccountChanged)
async def enable_account(request: web.Request) -> AccountChanged:
    """Enable an account again: it can sign in with its password."""
    return await _set_disabled(request, False)
