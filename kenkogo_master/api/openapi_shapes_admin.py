"""Answers of the account, session and audit operations: the handlers return these models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from kenkogo_master.admin.audit import ActorKind
from kenkogo_master.api.answers import absent
from kenkogo_master.api.openapi_shapes import Shape
from kenkogo_master.store.tokens import Scope


class SessionInfo(Shape):
    """A signed-in browser session: POST /api/v1/auth/login and /auth/password."""

    id: str = Field(description="the account's id")
    name: str = Field(description="the account's name")
    csrf_token: str = Field(description="send it as X-CSRF-Token with every non-GET request")
    created_ms: int
    expires_ms: int = Field(description="when the session ends however busy it is")
    idle_expires_ms: int = Field(description="when the session ends if it is not used")
    password_generated: bool = Field(
        description="the password is still the one generated at first start: change it"
    )


class Me(Shape):
    """GET /api/v1/auth/me: an account with its session, or a bearer token."""

    kind: Literal["account", "token"]
    id: str
    name: str
    scope: Scope
    csrf_token: str | None = Field(None, description="accounts only", exclude_if=absent)
    created_ms: int | None = Field(
        None, description="accounts only: when the session began", exclude_if=absent
    )
    expires_ms: int | None = Field(None, description="accounts only", exclude_if=absent)
    idle_expires_ms: int | None = Field(None, description="accounts only", exclude_if=absent)
    password_generated: bool | None = Field(None, description="accounts only", exclude_if=absent)


class SignedOut(Shape):
    """POST /api/v1/auth/logout."""

    signed_out: bool = Field(description="false for a bearer token, which has no session")
    name: str


class AuditActor(Shape):
    """Who acted: an account, a token, a command on the Master's machine, the Master itself."""

    kind: ActorKind
    id: str
    name: str


class AuditEntry(Shape):
    """One audited action."""

    id: str
    time_ms: int
    actor: AuditActor
    action: str = Field(description="the operation, e.g. login, pause_app, create_token")
    target: str = Field(description="what it acted on: path parameters, or the id it made")
    address: str = Field(description="the client's address; empty for local commands")
    result: str = Field(description="ok, or the error code it was answered with")
    detail: dict[str, Any]


class AuditPage(Shape):
    """GET /api/v1/audit: newest first; pass `next_cursor` as `cursor` for the next page."""

    items: list[AuditEntry]
    count: int
    next_cursor: str | None


class AccountItem(Shape):
    """An admin account, never its password."""

    id: str
    name: str
    disabled: bool = Field(description="a disabled account cannot sign in")
    password_generated: bool = Field(
        description="the password is still the one generated at first start"
    )
    created_ms: int
    password_changed_ms: int
    last_login_ms: int | None


class AccountList(Shape):
    """GET /api/v1/accounts: every account, by name."""

    items: list[AccountItem]
    count: int = Field(ge=0)


class AccountChanged(AccountItem):
    """POST /api/v1/accounts/{name}/disable and /enable: the account as it now is."""

    sessions_ended: int = Field(ge=0, description="sessions of the account that were ended")
