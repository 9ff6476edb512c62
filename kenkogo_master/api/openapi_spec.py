"""What the OpenAPI document says of each route: its inputs, errors and scope.

JSON answers are not here: each handler declares its models with `answers.answers`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kenkogo_master.api import openapi_shapes as shapes
from kenkogo_master.api.events import EventsQuery
from kenkogo_master.api.openapi_build import Doc, links
from kenkogo_master.api.routes_accounts import AccountCreate, AccountPath
from kenkogo_master.api.routes_apps import AppListQuery, KickBody, NamePath
from kenkogo_master.api.routes_audit import AuditListQuery
from kenkogo_master.api.routes_auth import LoginBody, PasswordBody
from kenkogo_master.api.routes_db import RetentionUpdate, TablePath, TableQuery
from kenkogo_master.api.routes_deployments import (
    DeploymentCreate,
    DeploymentPatch,
)
from kenkogo_master.api.routes_deployments import (
    LogsQuery as DeploymentLogsQuery,
)
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
from kenkogo_master.api.routes_logs import LogFilePath, LogsQuery
from kenkogo_master.api.routes_messages import MessageListQuery
from kenkogo_master.api.routes_onebot_apps import OneBotAppCreate
from kenkogo_master.api.routes_packages import PackagePath, RevisionPath
from kenkogo_master.api.routes_panel_texts import PanelTextsQuery
from kenkogo_master.api.routes_routing import ExplainRequest
from kenkogo_master.api.routes_runners import CommandCreate, EnrolmentCreate
from kenkogo_master.api.routes_settings import SettingPath, SettingsPatch
from kenkogo_master.api.routes_simulate import SimulateRequest
from kenkogo_master.api.routes_tokens import TokenCreate
from kenkogo_master.api.routes_traces import TraceListQuery
from kenkogo_master.api.routes_uploads import ChunkQuery, UploadCreate
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
    {
        "name": "auth",
        "description": "Sign in with an admin account; sessions, passwords and accounts.",
    },
    {"name": "apps", "description": "App instances and app names: inspect, pause, hold, kick."},
    {"name": "messages", "description": "Messages with their deliveries and replies."},
    {"name": "drivers", "description": "Drivers and the tokens they attach with."},
    {
        "name": "runners",
        "description": "Remote runners on /runner: enrolment tokens, state, apps, commands.",
    },
    {"name": "i18n", "description": "Texts, overrides, offered locales and chat locales."},
    {"name": "tokens", "description": "API tokens and their scopes."},
    {"name": "audit", "description": "Who changed what, when, from where, and how it ended."},
    {"name": "files", "description": "The sandboxed file area the bots keep their data in."},
    {"name": "packages", "description": "App packages: upload, revisions, installs."},
    {"name": "stats", "description": "Statistics kept in SQL: messages, apps, senders, storage."},
    {"name": "traces", "description": "Spans of messages through the hub, as waterfalls."},
    {"name": "system", "description": "The machine and the process right now."},
    {"name": "logs", "description": "Log records, newest first, and the log files."},
    {"name": "events", "description": "The live event stream (Server-Sent Events)."},
    {"name": "simulate", "description": "Talk to the apps through the built-in simulator."},
    {
        "name": "deployments",
        "description": "Apps the Master runs as its own processes or places on runners: "
        "start, stop, logs, resources.",
    },
    {
        "name": "database",
        "description": "The database: size and tables, maintenance, backups, retention, rows.",
    },
    {
        "name": "settings",
        "description": "The configuration in effect, and the keys that change while it runs.",
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
_APPS = Doc("apps", errors=(404, 409), links=links("/id", "id", *_APP_OPS))
_CHAT = Doc("i18n", path=ChatPath, errors=(404,))
_TEXT = Doc("i18n", path=TextPath, errors=(404,))
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
_CONTENT_RANGE = {
    "name": "Content-Range",
    "required": False,
    "description": "bytes FIRST-LAST/SIZE (SIZE may be *): checked against `offset`, the "
    "upload's size and the body's length",
    "schema": {"type": "string"},
}
_UPLOAD_OPS = ("get_upload", "add_upload_chunk", "commit_upload", "cancel_upload")
_MULTIPART = {
    "type": "object",
    "properties": {"file": {"type": "array", "items": _BINARY}},
    "required": ["file"],
}
_MAINTENANCE = Doc(
    "database",
    errors=(409,),
    note="One database operation runs at a time: another one running is answered 409.",
)
_RETENTION = Doc("database")

DOCS: dict[tuple[str, str], Doc] = {
    ("GET", "/health"): Doc("meta", public=True),
    ("GET", f"{V1}/openapi.json"): Doc(
        "meta", public=True, ok_schema={"type": "object", "description": "this document"}
    ),
    ("GET", f"{V1}/docs"): Doc(
        "meta", public=True, media="text/html", ok_schema={"type": "string"}
    ),
    # auth
    ("POST", f"{V1}/auth/login"): Doc(
        "auth",
        body=LoginBody,
        public=True,
        errors=(401, 429),
        note="Sets the session cookie (HttpOnly, SameSite=Strict; Secure with the `__Host-` "
        "prefix over TLS). The body must be sent as application/json.",
    ),
    ("POST", f"{V1}/auth/logout"): Doc("auth"),
    ("GET", f"{V1}/auth/me"): Doc("auth"),
    ("POST", f"{V1}/auth/password"): Doc(
        "auth",
        body=PasswordBody,
        errors=(429,),
        note="Needs a session (a bearer token is answered 403 `session_required`); a wrong "
        "old password is answered 403 `wrong_password`. Sets a new session cookie.",
    ),
    ("GET", f"{V1}/accounts"): Doc("auth", admin=True),
    ("POST", f"{V1}/accounts"): Doc(
        "auth",
        body=AccountCreate,
        errors=(409,),
        note="409 `already_exists` when the name is taken; a password shorter than [admin] "
        "min_password_length is answered 400.",
    ),
    ("POST", f"{V1}/accounts/{{name}}/disable"): Doc(
        "auth",
        path=AccountPath,
        errors=(404, 409),
        note="The account's sessions end at once. 409 `last_account` for the only enabled "
        "account, 409 `own_account` for the account of the request's own session.",
    ),
    ("POST", f"{V1}/accounts/{{name}}/enable"): Doc("auth", path=AccountPath, errors=(404,)),
    ("GET", f"{V1}/audit"): Doc(
        "audit",
        query=AuditListQuery,
        admin=True,
        note="Every request but a GET is audited, refused ones included, with the operation's "
        "id as its action.",
    ),
    # apps
    ("GET", f"{V1}/apps"): Doc(
        "apps", query=AppListQuery, links=links("/items/0/id", "id", *_APP_OPS)
    ),
    ("GET", f"{V1}/apps/{{id}}"): Doc("apps", errors=(404,)),
    ("POST", f"{V1}/apps/{{id}}/pause"): _APPS,
    ("POST", f"{V1}/apps/{{id}}/resume"): _APPS,
    ("POST", f"{V1}/apps/{{id}}/kick"): Doc(
        "apps",
        body=KickBody,
        body_optional=True,
        errors=(404,),
        note="Without a body (or a reason) the app hears the plain `kicked` message.",
    ),
    ("GET", f"{V1}/app-names"): Doc("apps"),
    ("POST", f"{V1}/app-names/{{name}}/hold"): Doc("apps", path=NamePath),
    ("POST", f"{V1}/app-names/{{name}}/release"): Doc("apps", path=NamePath),
    # messages
    ("GET", f"{V1}/messages"): Doc(
        "messages",
        query=MessageListQuery,
        links=links("/items/0/id", "id", "get_message", "message_trace"),
    ),
    ("GET", f"{V1}/messages/{{id}}"): Doc("messages", errors=(404,)),
    ("GET", f"{V1}/messages/{{id}}/routing"): Doc(
        "messages",
        errors=(404,),
        note="Where the message would go now, name by name (filters, levels, blocks, the "
        "instance chosen), beside what really happened to it.",
    ),
    ("POST", f"{V1}/routing/explain"): Doc(
        "messages",
        body=ExplainRequest,
        note="Where a message typed in would go now; nothing is stored or sent.",
    ),
    ("GET", f"{V1}/messages/{{id}}/trace"): Doc(
        "traces",
        errors=(404,),
        note="A message keeps its trace when head sampling chose it, or at the tail when it was"
        " retried, failed, expired, dropped, unrouted while a paused or held app would have"
        " taken it, or slower than `[traces] slow_ms`; any other message is answered with its"
        " timeline, made from its rows (`source` says which). 404 only for an unknown message.",
    ),
    # drivers
    ("GET", f"{V1}/drivers"): Doc("drivers"),
    ("GET", f"{V1}/driver-tokens"): Doc("drivers", admin=True),
    ("POST", f"{V1}/driver-tokens"): Doc(
        "drivers",
        body=DriverTokenCreate,
        links=links("/id", "id", "delete_driver_token"),
    ),
    ("DELETE", f"{V1}/driver-tokens/{{id}}"): Doc("drivers", errors=(404,)),
    # remote runners
    ("GET", f"{V1}/runner-enrolments"): Doc("runners", admin=True),
    ("POST", f"{V1}/runner-enrolments"): Doc(
        "runners",
        body=EnrolmentCreate,
        links=links("/id", "id", "delete_runner_enrolment"),
        note="The token is shown only in this answer. A runner presents it once, at its first "
        "connect, and is given a credential of its own in exchange; a second use is refused.",
    ),
    ("DELETE", f"{V1}/runner-enrolments/{{id}}"): Doc("runners", errors=(404,)),
    ("GET", f"{V1}/runners"): Doc("runners"),
    ("GET", f"{V1}/runners/{{id}}"): Doc("runners", errors=(404,)),
    ("DELETE", f"{V1}/runners/{{id}}"): Doc(
        "runners",
        errors=(404,),
        note="The runner's credential stops working at once and its connection is closed.",
    ),
    ("POST", f"{V1}/runners/{{id}}/commands"): Doc(
        "runners",
        body=CommandCreate,
        errors=(404, 409),
        note="409 `runner_offline` when the runner is not connected (nothing is sent), 409 "
        "`already_exists` when the id names another command. `start`, `stop` and `restart` "
        "need a deployment deployed first (else 404). Deploy, start, stop and remove also "
        "change the desired state sent to the runner as `reconcile` after every reconnect.",
    ),
    ("GET", f"{V1}/runners/{{id}}/commands/{{command_id}}"): Doc(
        "runners",
        path_schemas={"command_id": {"type": "string", "minLength": 1, "maxLength": 128}},
        errors=(404,),
    ),
    ("GET", f"{V1}/runners/{{id}}/apps/{{deployment}}/logs"): Doc(
        "runners",
        path_schemas={"deployment": {"type": "string", "minLength": 1, "maxLength": 128}},
        errors=(404,),
    ),
    # OneBot bots the Master dials
    ("GET", f"{V1}/onebot-apps"): Doc(
        "apps",
        admin=True,
        note="Each bot's connections, one per account (driver) it is shown; each connected one "
        "is an app instance of `name` (transport `onebot`) in GET /api/v1/apps.",
    ),
    ("POST", f"{V1}/onebot-apps"): Doc(
        "apps",
        body=OneBotAppCreate,
        errors=(409,),
        links=links("/id", "id", "delete_onebot_app"),
        note="Kept in SQL and dialed at once for every account; 409 when a bot of the same "
        "name and URL exists. The access token is never shown again.",
    ),
    ("DELETE", f"{V1}/onebot-apps/{{id}}"): Doc(
        "apps",
        errors=(404, 409),
        note="Bots from the configuration (`config-N`) are answered 409: change the file.",
    ),
    # i18n
    ("GET", f"{V1}/i18n/texts"): Doc("i18n", query=TextQuery),
    ("GET", f"{V1}/i18n/texts/{{locale}}/{{key}}"): _TEXT,
    ("PUT", f"{V1}/i18n/texts/{{locale}}/{{key}}"): replace(_TEXT, body=TextBody),
    ("DELETE", f"{V1}/i18n/texts/{{locale}}/{{key}}"): _TEXT,
    ("GET", f"{V1}/i18n/locales"): Doc("i18n"),
    ("POST", f"{V1}/i18n/locales"): Doc(
        "i18n",
        body=LocaleBody,
        note="201 when the locale is new, 200 when it was already offered.",
    ),
    ("DELETE", f"{V1}/i18n/locales/{{locale}}"): Doc(
        "i18n", path_schemas=_LOCALE_PATH, errors=(400, 404)
    ),
    ("GET", f"{V1}/i18n/chat-locales"): Doc("i18n"),
    ("GET", f"{V1}/i18n/panel"): Doc("i18n", query=PanelTextsQuery),
    ("GET", f"{V1}/i18n/panel/login"): Doc(
        "i18n",
        query=PanelTextsQuery,
        public=True,
        note="Only the sign-in page's texts (`panel.login.*`, `panel.shell.*`).",
    ),
    ("GET", f"{V1}/chats/{{platform}}/{{chat_id}}/locale"): _CHAT,
    ("PUT", f"{V1}/chats/{{platform}}/{{chat_id}}/locale"): replace(_CHAT, body=LocaleBody),
    ("DELETE", f"{V1}/chats/{{platform}}/{{chat_id}}/locale"): _CHAT,
    # tokens
    ("GET", f"{V1}/tokens"): Doc("tokens", admin=True),
    ("POST", f"{V1}/tokens"): Doc(
        "tokens",
        body=TokenCreate,
        links=links("/id", "id", "delete_token"),
    ),
    ("DELETE", f"{V1}/tokens/{{id}}"): Doc(
        "tokens",
        errors=(404,),
        note="The token configured as api.token is not stored and cannot be deleted.",
    ),
    # files
    ("GET", f"{V1}/files"): Doc("files", query=ListQuery, errors=_FILE_ERRORS),
    ("DELETE", f"{V1}/files"): Doc("files", query=FolderDeleteQuery, errors=_FILE_ERRORS),
    ("GET", f"{V1}/files/usage"): Doc("files", query=UsageQuery, errors=_FILE_ERRORS),
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
        query=UploadQuery,
        body_media="application/octet-stream",
        body_schema=_BINARY,
        errors=_WRITE_ERRORS,
        note="201 when the file is new, 200 when it replaced one (`overwrite=true`).",
    ),
    ("DELETE", f"{V1}/files/content"): Doc("files", query=FilePathQuery, errors=_FILE_ERRORS),
    ("POST", f"{V1}/files/upload"): Doc(
        "files",
        query=FolderUploadQuery,
        body_media="multipart/form-data",
        body_schema=_MULTIPART,
        errors=_WRITE_ERRORS,
    ),
    ("POST", f"{V1}/files/folder"): Doc("files", body=FolderBody, errors=_WRITE_ERRORS),
    ("POST", f"{V1}/files/move"): Doc("files", body=TransferBody, errors=_FILE_ERRORS),
    ("POST", f"{V1}/files/copy"): Doc("files", body=TransferBody, errors=_WRITE_ERRORS),
    ("GET", f"{V1}/files/uploads"): Doc("files"),
    ("POST", f"{V1}/files/uploads"): Doc(
        "files",
        body=UploadCreate,
        errors=_WRITE_ERRORS,
        links=links("/id", "id", *_UPLOAD_OPS),
        note="A resumable upload: checks the path and size now and makes a hidden part file "
        "beside the target. Send the bytes with PUT /files/uploads/{id}, then commit. At most "
        "64 are unfinished at once (409 `too_many_uploads`); one idle longer than "
        "files.upload_idle is dropped.",
    ),
    ("GET", f"{V1}/files/uploads/{{id}}"): Doc(
        "files", errors=(404,), note="After a cut connection: the next chunk starts at `offset`."
    ),
    ("PUT", f"{V1}/files/uploads/{{id}}"): Doc(
        "files",
        query=ChunkQuery,
        body_media="application/octet-stream",
        body_schema=_BINARY,
        headers=(_CONTENT_RANGE,),
        errors=(*_WRITE_ERRORS,),
        note="Appends the body at `offset`, which must be the upload's `offset` (409 "
        "`upload_offset_mismatch` otherwise; 409 `upload_busy` while another chunk arrives). "
        "A chunk is kept whole or not at all; bytes past the declared size are refused (413) "
        "before they reach the disk.",
    ),
    ("POST", f"{V1}/files/uploads/{{id}}/commit"): Doc(
        "files",
        errors=_WRITE_ERRORS,
        note="201 when the file is new, 200 when it replaced one. 409 `upload_incomplete` "
        "while bytes are missing; a commit refused otherwise ends the upload.",
    ),
    ("DELETE", f"{V1}/files/uploads/{{id}}"): Doc("files", errors=(404,)),
    ("GET", f"{V1}/files/text"): Doc("files", query=FilePathQuery, errors=_FILE_ERRORS),
    ("PUT", f"{V1}/files/text"): Doc(
        "files",
        query=FilePathQuery,
        body_media="text/plain",
        body_schema={"type": "string"},
        headers=(_IF_MATCH,),
        errors=(*_WRITE_ERRORS, 412, 428),
    ),
    # packages
    ("POST", f"{V1}/packages"): Doc(
        "packages",
        body_media="application/octet-stream",
        body_schema=_BINARY,
        errors=(409, 413),
        links=links("/package_id", "id", "get_package"),
        note="The body is the archive itself (any Content-Type but multipart), or a "
        "multipart/form-data form whose first part is the file. Refused with 400 and a code "
        "naming why: `invalid_archive`, `archive_unsafe_path` (an absolute name or `..`), "
        "`archive_link`, `archive_special_file`, `archive_too_large` (a bomb: entries, bytes "
        "or ratio past [packages] limits), `invalid_manifest` (the message names the field); "
        "409 `master_version_mismatch` when the manifest's `master` range leaves this Master "
        "out; 413 past packages.max_upload.",
    ),
    ("GET", f"{V1}/packages"): Doc("packages", admin=True),
    ("GET", f"{V1}/packages/{{id}}"): Doc("packages", path=PackagePath, admin=True, errors=(404,)),
    ("GET", f"{V1}/packages/{{id}}/revisions/{{sha256}}/download"): Doc(
        "packages",
        path=RevisionPath,
        admin=True,
        media="application/octet-stream",
        ok_schema=_BINARY,
        errors=(404,),
        note="application/zip or application/gzip as uploaded; `Repr-Digest` (RFC 9530) "
        "carries its sha-256.",
    ),
    ("POST", f"{V1}/packages/{{id}}/revisions/{{sha256}}/install"): Doc(
        "packages",
        path=RevisionPath,
        errors=(404, 409),
        note="Answers at once; the steps follow on the event stream (`deploy.install`, and "
        "`deploy.output` for each line the tools print) and at GET …/install.",
    ),
    ("GET", f"{V1}/packages/{{id}}/revisions/{{sha256}}/install"): Doc(
        "packages", path=RevisionPath, admin=True, errors=(404,)
    ),
    ("DELETE", f"{V1}/packages/{{id}}/revisions/{{sha256}}"): Doc(
        "packages", path=RevisionPath, errors=(404, 409)
    ),
    # stats
    ("GET", f"{V1}/stats/overview"): Doc("stats", query=NoQuery),
    ("GET", f"{V1}/stats/messages"): Doc("stats", query=MessagesQuery),
    ("GET", f"{V1}/stats/apps"): Doc("stats", query=TotalsQuery),
    ("GET", f"{V1}/stats/apps/{{name}}"): Doc("stats", query=AppSeriesQuery, errors=(404,)),
    ("GET", f"{V1}/stats/commands"): Doc("stats", query=TotalsQuery),
    ("GET", f"{V1}/stats/users/active"): Doc(
        "stats",
        query=ActiveQuery,
        note="With `window`: one count over the window. With `interval`: one per bucket.",
    ),
    ("GET", f"{V1}/stats/top-senders"): Doc("stats", query=TopQuery),
    ("GET", f"{V1}/stats/top-chats"): Doc("stats", query=TopQuery),
    ("GET", f"{V1}/stats/storage"): Doc("stats", query=NoQuery),
    # traces, system, events, simulate
    ("GET", f"{V1}/traces"): Doc(
        "traces",
        query=TraceListQuery,
        links=links("/items/0/trace_id", "trace_id", "get_trace"),
    ),
    ("GET", f"{V1}/traces/{{trace_id}}"): Doc("traces", errors=(400, 404)),
    ("GET", f"{V1}/system"): Doc("system"),
    # logs
    ("GET", f"{V1}/logs"): Doc(
        "logs",
        query=LogsQuery,
        admin=True,
        note="The newest records come from memory ([logging] ring_size), older ones from the "
        "rotating files. Secrets are masked in every record. The live tail is the event "
        "stream's `log` topic with the same filters.",
    ),
    ("GET", f"{V1}/logs/files"): Doc("logs", admin=True),
    ("GET", f"{V1}/logs/files/{{name}}"): Doc(
        "logs",
        path=LogFilePath,
        admin=True,
        media="text/plain",
        ok_schema={"type": "string", "description": "the file: JSON lines"},
        errors=(404,),
        note="Only a file GET /api/v1/logs/files lists; any other name is answered 404, or "
        "400 when it is not a plain file name.",
    ),
    ("GET", f"{V1}/system/history"): Doc("system"),
    ("GET", f"{V1}/events"): Doc(
        "events",
        (shapes.StreamEvent,),
        query=EventsQuery,
        media="text/event-stream",
        errors=(503,),
        note="Each event's type is its topic and its data a JSON object; a reader too slow "
        "to keep up gets a `dropped` event and the stream ends.",
    ),
    ("POST", f"{V1}/simulate"): Doc("simulate", body=SimulateRequest, errors=(404,)),
    # database
    ("GET", f"{V1}/db"): Doc("database"),
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
        errors=(409,),
        note="409 while another database operation (a scheduled prune too) runs.",
    ),
    ("GET", f"{V1}/db/tables/{{name}}"): Doc(
        "database", query=TableQuery, path=TablePath, errors=(404,)
    ),
    # deployments
    ("GET", f"{V1}/deployments"): Doc("deployments", admin=True),
    ("POST", f"{V1}/deployments"): Doc(
        "deployments",
        body=DeploymentCreate,
        errors=(404, 409),
        links=links("/id", "id", "get_deployment", "delete_deployment"),
        note="`runner` (an id, or `local`) or `labels` (all among a runner's) place it; "
        "neither: local. Of the connected runners whose labels match, the one with the fewest "
        "deployments gets it. 409 `no_runner_matches` when no runner does; 409 `not_installed` "
        "when a local one's revision is not installed; 404 when a runner's package revision "
        "was never uploaded; 409 `already_exists` when the name is taken. Secrets are never "
        "shown again: answers list their names; a runner gets them over /runner only.",
    ),
    ("GET", f"{V1}/deployments/{{id}}"): Doc("deployments", admin=True, errors=(404,)),
    ("PATCH", f"{V1}/deployments/{{id}}"): Doc(
        "deployments",
        body=DeploymentPatch,
        errors=(404, 409),
        note="What is given replaces what was; a running local app gets it at its next "
        "start, one on a runner is deployed again at once (and restarted if running). A new "
        "`runner` or `labels` moves it (409 `no_runner_matches` when none fits).",
    ),
    ("POST", f"{V1}/deployments/{{id}}/start"): Doc(
        "deployments",
        errors=(404, 409),
        note="Answers at once (state `starting`); 409 `not_installed`.",
    ),
    ("POST", f"{V1}/deployments/{{id}}/stop"): Doc(
        "deployments",
        errors=(404,),
        note="Answers once the whole process group is gone: the stop signal, then SIGKILL "
        "after the app's stop timeout.",
    ),
    ("POST", f"{V1}/deployments/{{id}}/restart"): Doc("deployments", errors=(404, 409)),
    ("DELETE", f"{V1}/deployments/{{id}}"): Doc(
        "deployments", errors=(404,), note="Stops the app first; its log files are kept."
    ),
    ("GET", f"{V1}/deployments/{{id}}/logs"): Doc(
        "deployments",
        query=DeploymentLogsQuery,
        admin=True,
        errors=(404,),
        note="Lines are numbered from 1 across restarts; `next_offset` reads on. The live "
        "lines are on GET /api/v1/events, topic `log.deployment`.",
    ),
    # settings
    ("GET", f"{V1}/settings"): Doc("settings", admin=True),
    ("PATCH", f"{V1}/settings"): Doc(
        "settings",
        body=SettingsPatch,
        errors=(409,),
        note="Only the keys listed in the body's schema change at run time: any other known "
        "key is answered 409 `restart_required`, an unknown one 400 `unknown_setting`; then "
        "nothing changes.",
    ),
    ("DELETE", f"{V1}/settings/{{key}}"): Doc(
        "settings",
        path=SettingPath,
        errors=(404, 409),
        note="409 `restart_required` for a key only a restart changes.",
    ),
}
