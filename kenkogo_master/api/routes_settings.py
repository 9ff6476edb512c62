"""REST resources of the configuration in effect: read it all, change the run-time keys."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, RootModel, create_model

from kenkogo_master.admin.runtime_settings import KEYS, Change
from kenkogo_master.api import openapi_shapes_settings as shapes
from kenkogo_master.api.answers import answers
from kenkogo_master.api.audit_trail import record_request
from kenkogo_master.api.auth import ACTOR
from kenkogo_master.api.json import body_model
from kenkogo_master.api.routes_tokens import require_admin
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.keys import RUNTIME_SETTINGS
from kenkogo_master.settings import Section, Settings

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

MAX_TARGET = 300  # characters of the keys named as an audit row's target


class SettingsBody(RootModel[dict[str, Any]]):
    """Body of PATCH /api/v1/settings as the handler reads it: keys are checked one by one."""


def _settings_patch() -> type[BaseModel]:
    """Build the documented PATCH body: every run-time key, with the config's own constraints."""
    fields: dict[str, Any] = {}
    for name, key in KEYS.items():
        if not key.runtime:
            continue
        section = Settings.model_fields[key.section].annotation
        assert isinstance(section, type) and issubclass(section, Section)
        field = section.model_fields[key.name]
        annotation: Any = field.annotation
        if field.metadata:  # the constraints: gt, le and the like
            annotation = Annotated[(annotation, *field.metadata)]
        fields[f"{key.section}__{key.name}"] = (
            annotation | None,
            Field(None, alias=name, description="null: back to the configured value"),
        )
    model: type[BaseModel] = create_model(
        "SettingsPatch",
        __config__=ConfigDict(extra="forbid", populate_by_name=True),
        __doc__="Body of PATCH /api/v1/settings: `section.key` to its new value.",
        **fields,
    )
    return model


SettingsPatch = _settings_patch()


class SettingPath(BaseModel):
    """Path of DELETE /api/v1/settings/{key}."""

    key: str = Field(json_schema_extra={"enum": [*KEYS]}, description="`section.key`")


def _info(request: web.Request) -> dict[str, Any]:
    """Return the fields of SettingsInfo: every key as it now is."""
    items = [shapes.SettingItem(**item) for item in request.app[RUNTIME_SETTINGS].describe()]
    config_file = request.app[RUNTIME_SETTINGS].settings.config_file
    return {
        "config_file": None if config_file is None else str(config_file),
        "items": items,
        "total": len(items),
    }


@routes.get("/api/v1/settings")
@answers(shapes.SettingsInfo)
async def get_settings(request: web.Request) -> shapes.SettingsInfo:
    """List every configuration key in effect: value, source, whether it may change; no secrets."""
    require_admin(request)
    return shapes.SettingsInfo(**_info(request))


async def _change(request: web.Request, action: str, changes: dict[str, Any]) -> list[Change]:
    """Apply `changes` and audit them as `action`: the keys, each value before and after."""
    target = ",".join(changes)[:MAX_TARGET]
    try:
        done = await request.app[RUNTIME_SETTINGS].update(changes)
    except HubError as exc:
        await record_request(
            request,
            action,
            target=target,
            result=exc.code.value,
            detail={"keys": [*changes]},
        )
        raise
    described = [change.describe() for change in done]
    await record_request(request, action, target=target, detail={"changes": described})
    if done:
        log.info(
            "settings changed by %s: %s",
            request[ACTOR].name or request[ACTOR].kind.value,
            ", ".join(f"{item['key']} = {item['after']!r}" for item in described),
        )
    return done


@routes.patch("/api/v1/settings")
@answers(shapes.SettingsChanged)
async def update_settings(request: web.Request) -> shapes.SettingsChanged:
    """Change keys while the Master runs, at once and kept across restarts.

    The body maps `section.key` to a value, validated as the configuration file is; `null`
    goes back to the configured value. Nothing changes unless every key may: an unknown key is
    answered 400 `unknown_setting`, a key only a restart changes 409 `restart_required`, a bad
    value 400 `invalid_payload`. Retention keys change the retentions of /api/v1/db/retention.
    """
    changes = (await body_model(request, SettingsBody)).root
    done = await _change(request, "update_settings", changes)
    changed = [shapes.SettingChange(**change.describe()) for change in done]
    return shapes.SettingsChanged(**_info(request), changed=changed)


@routes.delete("/api/v1/settings/{key}")
@answers(shapes.SettingsInfo)
async def reset_setting(request: web.Request) -> shapes.SettingsInfo:
    """Return a key to its configured value (file, environment or default)."""
    name = request.match_info["key"]
    if name not in KEYS:
        raise HubError(ErrorCode.NOT_FOUND, what="setting", id=name)
    await _change(request, "reset_setting", {name: None})
    return shapes.SettingsInfo(**_info(request))
