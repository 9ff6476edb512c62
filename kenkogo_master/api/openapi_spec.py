"""What the OpenAPI document says of each route: its models, answers and scope."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kenkogo_master.api import openapi_shapes as shapes
from kenkogo_master.api import openapi_shapes_admin as admin_shapes
from kenkogo_master.api import openapi_shapes_db as db_shapes
from kenkogo_master.api import openapi_shapes_files as files_shapes
from kenkogo_master.api import openapi_shapes_routing as routing_shapes
from kenkogo_master.api import openapi_shapes_stats as stats_shapes
from kenkogo_master.api.events import EventsQuery
from kenkogo_master.api.openapi_build import Doc, links
from kenkogo_master.api.routes_apps import AppListQuery, NamePath
from kenkogo_master.api.routes_audit import AuditListQuery
from kenkogo_master.api.routes_auth import LoginBody, PasswordBody
from kenkogo_master.api.routes_db import RetentionUpdate, TablePath, TableQuery
from kenkogo_master.api.routes_driver_tokens import DriverTokenCreate
from kenkogo_master.api.routes_files import (
    DownloadQuery,
    FilePathQuery,
    FolderBody,
    FolderDeleteQuery,
    FolderUploadQuery,
    ListQuery,
    TransferBody,
    UploadQuery,
    UsageQuery,
)
from kenkogo_master.api.routes_i18n import ChatPath, LocaleBody, TextBody, TextPath, TextQuery
from kenkogo_master.api.routes_messages import MessageListQuery
from kenkogo_master.api.routes_routing import ExplainRequest
from kenkogo_master.api.routes_simulate import SimulateRequest
from kenkogo_master.api.routes_tokens import TokenCreate
from kenkogo_master.api.routes_traces import TraceListQuery
from kenkogo_master.api.stats_params import (
    ActiveQuery,
    AppSeriesQuery,
    MessagesQuery,
    NoQuery,
    TopQuery,
    TotalsQuery,
)

V1 = "/api/v1"
TAGS = [
    {"name": "meta", "description": "Liveness and this document."},
    {"name": "auth", "description": "Sign in with an admin account; sessions and passwords."},
    {"name": "apps", "description": "App instances and app names: inspect, pause, hold, kick."},
    {"name": "messages", "description": "Messages with their deliveries and replies."},
    {"name": "drivers", "description": "Drivers and the tokens they attach with."},
    {"name": "i18n", "description": "Texts, overrides, offered locales and chat locales."},
    {"name": "tokens", "description": "API tokens and their scopes."},
    {"name": "audit", "description": "Who changed what, when, from where, and how it ended."},
    {"name": "files", "description": "The sandboxed file area the bots keep their data in."},
    {"name": "stats", "description": "Statistics kept in SQL: messages, apps, senders, storage."},
    {"name": "traces", "description": "Spans of messages through the hub, as waterfalls."},
    {"name": "system", "description": "The machine and the process right now."},
    {"name": "events", "description": "The live event stream (Server-Sent Events)."},
    {"name": "simulate", "description": "Talk to the apps through the built-in simulator."},
    {
        "name": "database",
        "description": "The database: size and tables, maintenance, backups, retention, rows.",
    },
]
# Path segments no model validates: any non-empty string, answered 404 when unknown.
PATH_DEFAULTS: dict[str, dict[str, Any]] = {
    "id": {"type": "string", "minLength": 1, "description": "the id"},
    "trace_id": {
        "type": "string",
        "pattern": "^[0-9a-fA-F]{32}$",
        "description": "32 hexadecimal digits",
    },
    "name": {"type": "string", "minLength": 1, "maxLength": 64, "description": "an app name"},
}
_LOCALE_PATH = {"locale": LocaleBody.model_json_schema()["properties"]["locale"]}
_APP_OPS = ("get_app", "pause_app", "resume_app", "kick_app")
_APPS = Doc("apps", (shapes.App,), errors=(404, 409), links=links("/id", "id", *_APP_OPS))
_CHAT = Doc("i18n", (shapes.ChatLocale,), path=ChatPath, errors=(404,))
_TEXT = Doc("i18n", (shapes.Text,), path=TextPath, errors=(404,))
_BINARY = {"type": "string", "format": "binary"}
_FILE_ERRORS = (404, 409)
_WRITE_ERRORS = (404, 409, 507)
_RANGE = {
    "name": "Range",
    "required": False,
    "description": "one byte range, e.g. bytes=0-1023 or bytes=-500; several are ignored",
    "schema": {"type": "string"},
}
_IF_RANGE = {
    "name": "If-Range",
    "required": False,
    "description": "the ETag or Last-Modified of the file the range belongs to",
    "schema": {"type": "string"},
}
_IF_MATCH = {
    "name": "If-Match",
    "required": False,
    "description": 'the version the text was read at, quoted ("…"), or * for any',
    "schema": {"type": "string"},
}
_MULTIPART = {
    "type": "object",
    "properties": {"file": {"type": "array", "items": _BINARY}},
    "required": ["file"],
}
_MAINTENANCE = Doc(
    "database",
    (db_shapes.MaintenanceResult,),
    errors=(409,),
    note="One database operation runs at a time: another one running is answered 409.",
)
_RETENTION = Doc("database", (db_shapes.RetentionInfo,))

DOCS: dict[tuple[str, str], Doc] = {
    ("GET", "/health"): Doc("meta", (shapes.Health,), public=True, success=(200, 503)),
    ("GET", f"{V1}/openapi.json"): Doc(
        "meta", public=True, ok_schema={"type": "object", "description": "this document"}
    ),
    ("GET", f"{V1}/docs"): Doc(
        "meta", public=True, media="text/html", ok_schema={"type": "string"}
    ),
    # auth
    ("POST", f"{V1}/auth/login"): Doc(
        "auth",
        (admin_shapes.SessionInfo,),
        body=LoginBody,
        public=True,
        errors=(401, 429),
        note="Sets the session cookie (HttpOnly, SameSite=Strict; Secure with the `__Host-` "
        "prefix over TLS). The body must be sent as application/json.",
    ),
    ("POST", f"{V1}/auth/logout"): Doc("auth", (admin_shapes.SignedOut,)),
    ("GET", f"{V1}/auth/me"): Doc("auth", (admin_shapes.Me,)),
    ("POST", f"{V1}/auth/password"): Doc(
        "auth",
        (admin_shapes.SessionInfo,),
        body=PasswordBody,
        errors=(429,),
        note="Needs a session (a bearer token is answered 403 `session_required`); a wrong "
        "old password is answered 403 `wrong_password`. Sets a new session cookie.",
    ),
    ("GET", f"{V1}/audit"): Doc(
        "audit",
        (admin_shapes.AuditPage,),
        query=AuditListQuery,
        admin=True,
        note="Every request but a GET is audited, refused ones included, with the operation's "
        "id as its action.",
    ),
    # apps
    ("GET", f"{V1}/apps"): Doc(
        "apps", (shapes.AppList,), query=AppListQuery, links=links("/items/0/id", "id", *_APP_OPS)
    ),
    ("GET", f"{V1}/apps/{{id}}"): Doc("apps", (shapes.AppDetail,), errors=(404,)),
    ("POST", f"{V1}/apps/{{id}}/pause"): _APPS,
    ("POST", f"{V1}/apps/{{id}}/resume"): _APPS,
    ("POST", f"{V1}/apps/{{id}}/kick"): Doc("apps", (shapes.Kicked,), errors=(404,)),
    ("GET", f"{V1}/app-names"): Doc("apps", (shapes.AppNameList,)),
    ("POST", f"{V1}/app-names/{{name}}/hold"): Doc("apps", (shapes.Held,), path=NamePath),
    ("POST", f"{V1}/app-names/{{name}}/release"): Doc("apps", (shapes.Released,), path=NamePath),
    # messages
    ("GET", f"{V1}/messages"): Doc(
        "messages",
        (shapes.MessageList,),
        query=MessageListQuery,
        links=links("/items/0/id", "id", "get_message", "message_trace"),
    ),
    ("GET", f"{V1}/messages/{{id}}"): Doc("messages", (shapes.MessageDetail,), errors=(404,)),
    ("GET", f"{V1}/messages/{{id}}/routing"): Doc(
        "messages",
        (routing_shapes.RoutingExplanation,),
        errors=(404,),
        note="Where the message would go now, name by name (filters, levels, blocks, the "
        "instance chosen), beside what really happened to it.",
    ),
    ("POST", f"{V1}/routing/explain"): Doc(
        "messages",
        (routing_shapes.RoutingExplanation,),
        body=ExplainRequest,
        note="Where a message typed in would go now; nothing is stored or sent.",
    ),
    ("GET", f"{V1}/messages/{{id}}/trace"): Doc(
        "traces",
        (stats_shapes.MessageTrace,),
        errors=(404,),
        note="A message keeps its trace when head sampling chose it, or at the tail when it was"
        " retried, failed, expired, dropped, unrouted while a paused or held app would have"
        " taken it, or slower than `[traces] slow_ms`; any other message is answered with its"
        " timeline, made from its rows (`source` says which). 404 only for an unknown message.",
    ),
    # drivers
    ("GET", f"{V1}/drivers"): Doc("drivers", (shapes.DriverList,)),
    ("GET", f"{V1}/driver-tokens"): Doc("drivers", (shapes.DriverTokenList,), admin=True),
    ("POST", f"{V1}/driver-tokens"): Doc(
        "drivers",
        (shapes.NewDriverToken,),
        body=DriverTokenCreate,
        success=(201,),
        links=links("/id", "id", "delete_driver_token"),
    ),
    ("DELETE", f"{V1}/driver-tokens/{{id}}"): Doc("drivers", (shapes.Deleted,), errors=(404,)),
    # i18n
    ("GET", f"{V1}/i18n/texts"): Doc("i18n", (shapes.TextPage,), query=TextQuery),
    ("GET", f"{V1}/i18n/texts/{{locale}}/{{key}}"): _TEXT,
    ("PUT", f"{V1}/i18n/texts/{{locale}}/{{key}}"): replace(_TEXT, body=TextBody),
    ("DELETE", f"{V1}/i18n/texts/{{locale}}/{{key}}"): _TEXT,
    ("GET", f"{V1}/i18n/locales"): Doc("i18n", (shapes.LocaleList,)),
    ("POST", f"{V1}/i18n/locales"): Doc(
        "i18n",
        (shapes.LocaleInfo,),
        body=LocaleBody,
        success=(200, 201),
        note="201 when the locale is new, 200 when it was already offered.",
    ),
    ("DELETE", f"{V1}/i18n/locales/{{locale}}"): Doc(
        "i18n", (shapes.LocaleRemoved,), path_schemas=_LOCALE_PATH, errors=(400, 404)
    ),
    ("GET", f"{V1}/i18n/chat-locales"): Doc("i18n", (shapes.ChatLocaleList,)),
    ("GET", f"{V1}/chats/{{platform}}/{{chat_id}}/locale"): _CHAT,
    ("PUT", f"{V1}/chats/{{platform}}/{{chat_id}}/locale"): replace(_CHAT, body=LocaleBody),
    ("DELETE", f"{V1}/chats/{{platform}}/{{chat_id}}/locale"): _CHAT,
    # tokens
    ("GET", f"{V1}/tokens"): Doc("tokens", (shapes.ApiTokenList,), admin=True),
    ("POST", f"{V1}/tokens"): Doc(
        "tokens",
        (shapes.NewApiToken,),
        body=TokenCreate,
        success=(201,),
        links=links("/id", "id", "delete_token"),
    ),
    ("DELETE", f"{V1}/tokens/{{id}}"): Doc(
        "tokens",
        (shapes.Deleted,),
        errors=(404,),
        note="The token configured as api.token is not stored and cannot be deleted.",
    ),
    # files
    ("GET", f"{V1}/files"): Doc(
        "files", (files_shapes.FileList,), query=ListQuery, errors=_FILE_ERRORS
    ),
    ("DELETE", f"{V1}/files"): Doc(
        "files", (files_shapes.FileDeleted,), query=FolderDeleteQuery, errors=_FILE_ERRORS
    ),
    ("GET", f"{V1}/files/usage"): Doc(
        "files", (files_shapes.FileUsage,), query=UsageQuery, errors=_FILE_ERRORS
    ),
    ("GET", f"{V1}/files/content"): Doc(
        "files",
        query=DownloadQuery,
        success=(200, 206),
        media="*/*",
        ok_schema=_BINARY,
        headers=(_RANGE, _IF_RANGE),
        errors=(*_FILE_ERRORS, 416),
        note="The Content-Type follows the file's name; Content-Disposition carries the name "
        "(RFC 6266). ETag and Last-Modified let a download resume with If-Range.",
    ),
    ("PUT", f"{V1}/files/content"): Doc(
        "files",
        (files_shapes.FileEntry,),
        query=UploadQuery,
        body_media="application/octet-stream",
        body_schema=_BINARY,
        success=(200, 201),
        errors=_WRITE_ERRORS,
        note="201 when the file is new, 200 when it replaced one (`overwrite=true`).",
    ),
    ("DELETE", f"{V1}/files/content"): Doc(
        "files", (files_shapes.FileDeleted,), query=FilePathQuery, errors=_FILE_ERRORS
    ),
    ("POST", f"{V1}/files/upload"): Doc(
        "files",
        (files_shapes.Uploaded,),
        query=FolderUploadQuery,
        body_media="multipart/form-data",
        body_schema=_MULTIPART,
        success=(201,),
        errors=_WRITE_ERRORS,
    ),
    ("POST", f"{V1}/files/folder"): Doc(
        "files", (files_shapes.FileEntry,), body=FolderBody, success=(201,), errors=_WRITE_ERRORS
    ),
    ("POST", f"{V1}/files/move"): Doc(
        "files", (files_shapes.FileEntry,), body=TransferBody, errors=_FILE_ERRORS
    ),
    ("POST", f"{V1}/files/copy"): Doc(
        "files", (files_shapes.FileCopy,), body=TransferBody, success=(201,), errors=_WRITE_ERRORS
    ),
    ("GET", f"{V1}/files/text"): Doc(
        "files", (files_shapes.TextFile,), query=FilePathQuery, errors=_FILE_ERRORS
    ),
    ("PUT", f"{V1}/files/text"): Doc(
        "files",
        (files_shapes.TextSaved,),
        query=FilePathQuery,
        body_media="text/plain",
        body_schema={"type": "string"},
        headers=(_IF_MATCH,),
        success=(200, 201),
        errors=(*_WRITE_ERRORS, 412, 428),
    ),
    # stats
    ("GET", f"{V1}/stats/overview"): Doc("stats", (stats_shapes.Overview,), query=NoQuery),
    ("GET", f"{V1}/stats/messages"): Doc(
        "stats", (stats_shapes.MessageSeries,), query=MessagesQuery
    ),
    ("GET", f"{V1}/stats/apps"): Doc("stats", (stats_shapes.AppTotalsList,), query=TotalsQuery),
    ("GET", f"{V1}/stats/apps/{{name}}"): Doc(
        "stats", (stats_shapes.AppSeries,), query=AppSeriesQuery, errors=(404,)
    ),
    ("GET", f"{V1}/stats/commands"): Doc(
        "stats", (stats_shapes.CommandTotalsList,), query=TotalsQuery
    ),
    ("GET", f"{V1}/stats/users/active"): Doc(
        "stats",
        (stats_shapes.ActiveCount, stats_shapes.ActiveSeries),
        query=ActiveQuery,
        note="With `window`: one count over the window. With `interval`: one per bucket.",
    ),
    ("GET", f"{V1}/stats/top-senders"): Doc("stats", (stats_shapes.TopSenders,), query=TopQuery),
    ("GET", f"{V1}/stats/top-chats"): Doc("stats", (stats_shapes.TopChats,), query=TopQuery),
    ("GET", f"{V1}/stats/storage"): Doc("stats", (stats_shapes.Storage,), query=NoQuery),
    # traces, system, events, simulate
    ("GET", f"{V1}/traces"): Doc(
        "traces",
        (stats_shapes.TraceList,),
        query=TraceListQuery,
        links=links("/items/0/trace_id", "trace_id", "get_trace"),
    ),
    ("GET", f"{V1}/traces/{{trace_id}}"): Doc("traces", (stats_shapes.Trace,), errors=(400, 404)),
    ("GET", f"{V1}/system"): Doc("system", (stats_shapes.System,)),
    ("GET", f"{V1}/events"): Doc(
        "events",
        (shapes.StreamEvent,),
        query=EventsQuery,
        media="text/event-stream",
        errors=(503,),
        note="Each event's type is its topic and its data a JSON object; a reader too slow "
        "to keep up gets a `dropped` event and the stream ends.",
    ),
    ("POST", f"{V1}/simulate"): Doc(
        "simulate", (shapes.Simulation,), body=SimulateRequest, errors=(404,)
    ),
    # database
    ("GET", f"{V1}/db"): Doc("database", (db_shapes.DbInfo,)),
    ("POST", f"{V1}/db/vacuum"): _MAINTENANCE,
    ("POST", f"{V1}/db/analyze"): _MAINTENANCE,
    ("POST", f"{V1}/db/integrity-check"): _MAINTENANCE,
    ("GET", f"{V1}/db/backup"): Doc(
        "database",
        admin=True,
        media="application/vnd.sqlite3",
        ok_schema={"type": "string", "format": "binary", "description": "a SQLite database"},
        errors=(409,),
        note="409 while another database operation runs, and on PostgreSQL (use pg_dump).",
    ),
    ("GET", f"{V1}/db/retention"): _RETENTION,
    ("PUT", f"{V1}/db/retention"): replace(_RETENTION, body=RetentionUpdate),
    ("POST", f"{V1}/db/prune"): Doc(
        "database",
        (db_shapes.PruneReport,),
        errors=(409,),
        note="409 while another database operation (a scheduled prune too) runs.",
    ),
    ("GET", f"{V1}/db/tables/{{name}}"): Doc(
        "database", (db_shapes.TablePage,), query=TableQuery, path=TablePath, errors=(404,)
    ),
}
