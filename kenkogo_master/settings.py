"""Typed configuration: a TOML file overlaid with KENKOGO_<SECTION>__<KEY> environment variables.

Loading also remembers where each key's value came from (the file, the environment, or the
default), for GET /api/v1/settings; keys changed at run time are admin/runtime_settings.py's.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from kenkogo_master.protocol.apps import EventPatterns, event_patterns

ENV_PREFIX = "KENKOGO_"

PositiveSeconds = Annotated[float, Field(gt=0, le=86_400)]


def _origin(value: str) -> str:
    """Accept `scheme://host[:port]` as a browser sends it in `Origin`, normalised."""
    parts = urlsplit(value.strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise ValueError(f"{value!r} is not an origin like https://panel.example.com:8443")
    return normalize_origin(parts.scheme, parts.hostname, port)


def normalize_origin(scheme: str, host: str, port: int | None) -> str:
    """Return `scheme://host[:port]` in lower case, without the scheme's default port."""
    scheme, host = scheme.lower(), host.lower()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address, as it is written in a URL
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


class Section(BaseModel):
    """A configuration section: unknown keys are typos, so they are refused."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class ServerSettings(Section):
    """Where the Master listens."""

    host: str = "0.0.0.0"
    port: int = Field(17680, ge=0, le=65535)
    # permessage-deflate keeps zlib state per connection (~90 KB each); idle fleets want it off.
    websocket_compression: bool = False
    # HTTPS and WSS on the same port: a PEM certificate chain and its private key.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # PEM CA bundle: drivers and runners must present a client certificate it signed.
    tls_client_ca: Path | None = None
    # Origins (`scheme://host[:port]`) browsers may connect from besides the Master's own.
    allowed_origins: Annotated[
        list[Annotated[str, AfterValidator(_origin)]], Field(max_length=1000)
    ] = []

    @model_validator(mode="after")
    def _tls_pair(self) -> ServerSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key must be set together")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ValueError("tls_client_ca needs tls_cert and tls_key")
        return self


class StorageSettings(Section):
    """Where data lives."""

    data_dir: Path = Path("./data")
    database_url: str | None = None
    # Inbound messages commit in groups: after this many milliseconds or rows, whichever first.
    flush_interval_ms: float = Field(2.0, gt=0, le=1000)
    flush_max_rows: int = Field(500, ge=1, le=100_000)
    writer_queue_limit: int = Field(100_000, ge=100)
    # SQLite's durability: `normal` survives a killed process, `full` also a power cut (an fsync
    # per group commit).
    synchronous: Literal["normal", "full"] = "normal"

    def resolved_database_url(self) -> str:
        """Return the configured URL, or the default SQLite file inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'kenkogo.db').resolve()}"


class ApiSettings(Section):
    """The REST API."""

    token: str | None = Field(None, min_length=8)


class AdminSettings(Section):
    """Admin accounts: browser sessions, failed-login throttling and password hashing."""

    # A session unused this long ends; one older than absolute_timeout ends however busy it is.
    idle_timeout: Annotated[float, Field(gt=0, le=30 * 86_400)] = 1800.0
    absolute_timeout: Annotated[float, Field(gt=0, le=365 * 86_400)] = 43_200.0
    # Failed logins per account name and per address: the first `login_free_attempts` cost
    # nothing, each further one waits `login_delay` doubled per failure (up to `login_max_delay`),
    # and after `login_max_attempts` logins are refused for `lockout` seconds. Failures older
    # than `login_window` are forgotten.
    login_free_attempts: int = Field(3, ge=0, le=1000)
    login_max_attempts: int = Field(10, ge=1, le=1000)
    login_delay: Annotated[float, Field(ge=0, le=60)] = 1.0
    login_max_delay: Annotated[float, Field(ge=0, le=300)] = 30.0
    lockout: PositiveSeconds = 900.0
    login_window: PositiveSeconds = 900.0
    min_password_length: int = Field(10, ge=8, le=1024)
    # argon2id parameters, at least OWASP's minimum; raising them rehashes each password at its
    # next login.
    hash_memory_kib: int = Field(19_456, ge=19_456, le=4 * 1024 * 1024)
    hash_time_cost: int = Field(2, ge=2, le=100)
    hash_parallelism: int = Field(1, ge=1, le=64)


class DriverSettings(Section):
    """Chat-platform drivers on /driver."""

    tokens: list[str] = []
    # How long a reply waits for its driver to come back before it fails visibly.
    reply_wait: PositiveSeconds = 30.0
    reply_queue_limit: int = Field(1000, ge=1)
    # An `action` a driver has not answered within this long counts as failed.
    action_timeout: PositiveSeconds = 10.0


class RunnerSettings(Section):
    """Remote runners on /runner."""

    # Seconds between a runner's heartbeats (told to it when it registers); silent for three of
    # them, a runner and its apps are shown `lost`.
    heartbeat_interval: PositiveSeconds = 10.0
    # Output lines kept per app on a runner for GET .../logs, and commands remembered by id.
    log_lines: int = Field(1000, ge=10, le=100_000)
    commands_kept: int = Field(10_000, ge=100, le=1_000_000)


class OneBotSettings(Section):
    """OneBot v11 reverse WebSocket."""

    access_token: str | None = None
    # How long a send_*_msg waits for the implementation's response before it counts as failed.
    action_timeout: PositiveSeconds = 15.0
    # WebSocket pings keep idle connections through proxies and find dead ones.
    ping_interval: PositiveSeconds = 30.0
    # Group replies quote the message they answer (a `reply` segment) when on.
    quote_replies: bool = False
    # Toward OneBot apps ([[onebot_apps]], /onebot/v11/app/ws): seconds between heartbeat meta
    # events, the longest pause between redials of an app endpoint, how long a send_msg waits for
    # the driver before it is answered "async", and how recent a message in the same chat must be
    # for a send_msg that names none to count as its reply.
    app_heartbeat_interval: PositiveSeconds = 15.0
    app_reconnect_max: PositiveSeconds = 30.0
    app_send_wait: PositiveSeconds = 5.0
    app_reply_window: PositiveSeconds = 60.0


def _ws_url(value: str) -> str:
    """Accept a ws:// or wss:// URL with a host."""
    parts = urlsplit(value)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(
            "must be a ws:// or wss:// URL with a host, e.g. ws://127.0.0.1:8080/onebot/v11/ws"
        )
    return value


def _regexes(patterns: list[str] | None) -> list[str] | None:
    """Refuse a regular expression Python cannot compile."""
    for pattern in patterns or ():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"regex {pattern!r} does not compile: {exc}") from None
    return patterns


def _kind_patterns(patterns: list[str] | None) -> list[str] | None:
    """Check kind patterns as an app's `subscribe.events` are checked."""
    return None if patterns is None else event_patterns(patterns)


FilterItems = Annotated[list[Annotated[str, Field(max_length=256)]], Field(max_length=200)]
AppName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")]
WsUrl = Annotated[str, Field(max_length=2000), AfterValidator(_ws_url)]


class OneBotAppFilters(Section):
    """Which messages a OneBot app gets (the `subscribe` filters of PROTOCOL.md 2.2)."""

    chats: FilterItems | None = None
    platforms: FilterItems | None = None
    groups: FilterItems | None = None
    users: FilterItems | None = None
    commands: FilterItems | None = None
    keywords: FilterItems | None = None
    regex: Annotated[FilterItems | None, AfterValidator(_regexes)] = None
    # Kinds as globs; absent: what an implementation sends a bot (messages, notices, requests).
    events: Annotated[EventPatterns | None, AfterValidator(_kind_patterns)] = None


class OneBotAppEntry(Section):
    """One `[[onebot_apps]]` table: a OneBot v11 bot the Master dials as its implementation."""

    name: AppName
    url: WsUrl
    access_token: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    priority: int = Field(10, ge=-1_000_000, le=1_000_000)
    block: bool = False
    subscribe: OneBotAppFilters = OneBotAppFilters()
    # `message` in events as a segment array, or as a CQ-code string.
    message_format: Literal["array", "string"] = "array"
    # The accounts (self ids) shown to this bot, one connection each; empty: every account.
    accounts: Annotated[
        list[Annotated[str, Field(pattern=r"^[0-9]{1,20}$")]], Field(max_length=100)
    ] = []


class SimulatorSettings(Section):
    """The built-in simulator driver behind POST /api/v1/simulate."""

    enabled: bool = True
    # Replies remembered for the panel, newest last.
    history_limit: int = Field(1000, ge=0, le=100_000)


class AppSettings(Section):
    """Apps on /app and /ws: admission, liveness and delivery limits."""

    require_token: bool = False
    tokens: list[str] = []
    register_timeout: PositiveSeconds = 10.0
    heartbeat_timeout: PositiveSeconds = 45.0
    heartbeat_interval: PositiveSeconds = 30.0
    resume_window: PositiveSeconds = 60.0
    ack_timeout: PositiveSeconds = 10.0
    max_attempts: int = Field(5, ge=1, le=100)
    max_in_flight: int = Field(64, ge=1, le=100_000)
    queue_limit: int = Field(10_000, ge=1, le=10_000_000)
    # Messages acknowledged to a driver but not yet handled when the Master stopped are delivered
    # again after a restart if they arrived within this many seconds (0 turns it off), once apps
    # have had `recovery_delay` seconds to reconnect.
    recovery_window: float = Field(600.0, ge=0, le=7 * 86_400)
    recovery_delay: float = Field(5.0, ge=0, le=3600)
    # A name whose instances all left within this many seconds is away: messages for it are kept
    # in its queue (and routed by what it last subscribed to) until an instance registers again.
    away_window: float = Field(300.0, ge=0, le=7 * 86_400)
    # On a stop, apps get this long to acknowledge what they hold before the Master leaves it
    # for the next start to deliver.
    stop_grace: float = Field(5.0, ge=0, le=600)


class LimitSettings(Section):
    """Input size limits."""

    max_payload: int = Field(65_536, ge=256, le=64 * 1024 * 1024)


class FilesSettings(Section):
    """The sandboxed file area the bots keep their data in."""

    # Every path the file API takes is resolved inside this folder; <data_dir>/files when unset.
    root: Path | None = None
    # Largest upload (one request, all its files together), in bytes; checked while it streams.
    max_upload: int = Field(100 * 1024 * 1024, ge=1, le=1024**4)
    # Largest file the text editor opens or saves, in bytes.
    max_edit: int = Field(1024 * 1024, ge=1, le=64 * 1024 * 1024)
    # Bytes the panel sends per request of a resumable upload; keep it under the body limit of
    # any proxy in front of the Master (nginx's client_max_body_size is 1 MiB unless raised).
    upload_chunk: int = Field(4 * 1024 * 1024, ge=64 * 1024, le=1024**3)
    # Seconds an unfinished resumable upload waits for its next chunk before it is dropped.
    upload_idle: float = Field(24 * 3600, gt=0)

    def resolved_root(self, data_dir: Path) -> Path:
        """Return the configured root, or the `files` folder inside the data directory."""
        return (self.root if self.root is not None else data_dir / "files").absolute()


class PackageSettings(Section):
    """App packages: uploads, the archives' limits, and installs."""

    # Largest package upload in bytes; checked while it streams.
    max_upload: int = Field(50 * 1024 * 1024, ge=1024, le=1024**4)
    # Entries (files and folders) one package may hold.
    max_entries: int = Field(10_000, ge=1, le=1_000_000)
    # Bytes a package may unpack to, counted while it unpacks (its headers are not trusted).
    max_unpacked: int = Field(500 * 1024 * 1024, ge=1024, le=1024**4)
    # Unpacked bytes per packed byte above which a package is a bomb (past its first MiB).
    max_ratio: float = Field(200.0, ge=1, le=100_000)
    # Seconds an install may take in all, and may go without printing anything.
    install_timeout: PositiveSeconds = 900.0
    install_idle: PositiveSeconds = 300.0
    # Lines of an install's output kept with its record (the tail).
    output_lines: int = Field(200, ge=10, le=10_000)


class I18nSettings(Section):
    """Languages of the texts the Master produces."""

    default_locale: str = "en"
    # Catalog tree; the one shipped with the Master when unset.
    locales_dir: Path | None = None


class LoggingSettings(Section):
    """Log output."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The console in JSON lines too (the files are always JSON lines, so that they can be read
    # back by GET /api/v1/logs).
    json_lines: bool = False
    file: bool = True
    file_max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    file_backups: int = Field(5, ge=0, le=100)
    # The newest records kept in memory for GET /api/v1/logs; older ones are read from the files.
    ring_size: int = Field(10_000, ge=10, le=1_000_000)

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


def _zone(value: str) -> str:
    """Refuse a time zone name the zone database does not know."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


RetentionDays = Annotated[float, Field(gt=0, le=36_500)]


class StatsSettings(Section):
    """Statistics: counted in memory, written to per-minute, hour and day buckets."""

    enabled: bool = True
    # Counters reach SQL this often; the hot path never writes SQL itself.
    flush_interval: Annotated[float, Field(gt=0, le=60)] = 1.0
    # Days and hours of the buckets begin at midnight and on the hour in this zone.
    timezone: Annotated[str, AfterValidator(_zone)] = "UTC"
    minute_retention_days: RetentionDays = 7
    hour_retention_days: RetentionDays = 90
    day_retention_days: RetentionDays = 1095
    # Machine and process samples for /api/v1/system and the event stream.
    system_interval: Annotated[float, Field(gt=0, le=3600)] = 2.0


class TraceSettings(Section):
    """Message traces: OpenTelemetry spans exported to SQL in batches."""

    enabled: bool = True
    # Share of messages traced when the driver sent no sampled traceparent. A traced message
    # costs about 200 us of CPU in the OpenTelemetry SDK (six spans), an untraced one nothing;
    # 1 % keeps the throughput target, and a driver's sampled traceparent is always traced.
    sample_ratio: Annotated[float, Field(ge=0, le=1)] = 0.01
    # Tail-based keeping: an untraced message slower than this from receipt until every app
    # acked it keeps its trace anyway (so do retried, undelivered and mistakenly unrouted ones).
    # A second is far beyond a healthy hub's milliseconds and short of the ack timeout.
    slow_ms: float = Field(1000.0, gt=0, le=86_400_000)
    retention_days: RetentionDays = 7
    batch_size: int = Field(512, ge=1, le=100_000)
    batch_delay_ms: float = Field(1000, gt=0, le=60_000)
    queue_limit: int = Field(8192, ge=1, le=1_000_000)
    # A message trace still open after this long (no reply came) is closed and forgotten.
    open_seconds: PositiveSeconds = 300.0
    # Also send spans over OTLP/HTTP, e.g. "http://collector:4318/v1/traces".
    otlp_endpoint: str | None = None


class RetentionSettings(Section):
    """Pruning of old rows; statistics and traces keep their retention in [stats] and [traces]."""

    # Messages with their deliveries and replies (and replies sent without a message).
    messages_days: RetentionDays = 90
    # Who did what: the audit trail.
    audit_days: RetentionDays = 365
    # Admin sessions unused this long (they expire far sooner; this removes their rows).
    sessions_days: RetentionDays = 30
    # Seconds between scheduled prunes (POST /api/v1/db/prune runs one at once).
    interval: Annotated[float, Field(ge=60, le=7 * 86_400)] = 3600.0
    # Rows deleted per statement; between batches the group-commit writer has its turn.
    batch_rows: int = Field(500, ge=1, le=100_000)


class MetricsSettings(Section):
    """Prometheus text at /metrics."""

    enabled: bool = True
    # When set, scrapers must send `Authorization: Bearer <token>`.
    token: str | None = Field(None, min_length=8)


class EventStreamSettings(Section):
    """The live event stream at /api/v1/events."""

    # A comment line this often keeps proxies from closing an idle stream.
    keepalive: PositiveSeconds = 15.0
    # Events queued per reader at most; a reader that falls this far behind is cut off.
    reader_queue_limit: int = Field(1000, ge=10, le=1_000_000)
    # The latest events kept for readers that reconnect with Last-Event-ID (0: none kept).
    replay_size: int = Field(5000, ge=0, le=1_000_000)
    # Seconds the events are still kept after the last reader left, for one coming back.
    replay_linger: PositiveSeconds = 120.0


class SupervisorSettings(Section):
    """The local supervisor: the deployed apps this Master runs as its own child processes."""

    # The URL the apps are given to reach this Master (KENKOGO_MASTER_URL); unset: this
    # Master's own port on the loopback (or on server.host when it names one address).
    master_url: Annotated[str, Field(pattern=r"^https?://[^\s]+$", max_length=2000)] | None = None
    # Apps being started at once at most (the others wait): a boot of many apps is not a storm.
    max_starting: int = Field(4, ge=1, le=1000)
    # Each app's output: files of this many bytes under <data_dir>/logs/apps/<deployment>/,
    # the newest `log_files` kept (restarts never delete them), and lines kept for the live tail.
    log_file_bytes: int = Field(1024 * 1024, ge=1024, le=1024**3)
    log_files: int = Field(5, ge=1, le=100)
    log_tail_lines: int = Field(1000, ge=10, le=100_000)
    # Seconds between samples of each app's CPU, memory and child processes.
    sample_interval: Annotated[float, Field(gt=0, le=3600)] = 5.0
    # The labels of the local runner (this Master), matched by a deployment's `labels`.
    labels: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=32)
    ] = []


class Source(StrEnum):
    """Where a setting's value comes from, weakest first."""

    DEFAULT = "default"  # nobody set it
    FILE = "file"  # the TOML file
    ENV = "env"  # a KENKOGO_<SECTION>__<KEY> variable, which wins over the file
    RUNTIME = "runtime"  # PATCH /api/v1/settings, kept in SQL; wins over both until removed


class Settings(Section):
    """All configuration of one Master process."""

    server: ServerSettings = ServerSettings()
    storage: StorageSettings = StorageSettings()
    api: ApiSettings = ApiSettings()
    admin: AdminSettings = AdminSettings()
    drivers: DriverSettings = DriverSettings()
    runners: RunnerSettings = RunnerSettings()
    onebot: OneBotSettings = OneBotSettings()
    simulator: SimulatorSettings = SimulatorSettings()
    apps: AppSettings = AppSettings()
    limits: LimitSettings = LimitSettings()
    files: FilesSettings = FilesSettings()
    packages: PackageSettings = PackageSettings()
    i18n: I18nSettings = I18nSettings()
    logging: LoggingSettings = LoggingSettings()
    stats: StatsSettings = StatsSettings()
    traces: TraceSettings = TraceSettings()
    retention: RetentionSettings = RetentionSettings()
    metrics: MetricsSettings = MetricsSettings()
    events: EventStreamSettings = EventStreamSettings()
    supervisor: SupervisorSettings = SupervisorSettings()
    # `[[onebot_apps]]`: a list of tables, not a section of keys.
    onebot_apps: Annotated[list[OneBotAppEntry], Field(max_length=100)] = []

    # Set by load_settings: the file read, and the keys (`section.key`) the file or the
    # environment gave. Settings built in code have neither: every key is a default.
    _file: Path | None = PrivateAttr(None)
    _sources: dict[str, Source] = PrivateAttr(default_factory=dict)

    @property
    def config_file(self) -> Path | None:
        """Return the configuration file that was read, if one was."""
        return self._file

    def source(self, key: str) -> Source:
        """Return where the loaded value of `key` (`section.key`) came from."""
        return self._sources.get(key, Source.DEFAULT)

    def __eq__(self, other: object) -> bool:
        """Compare the values only: where they came from is not part of a configuration."""
        if not isinstance(other, Settings):
            return NotImplemented
        return self.model_dump() == other.model_dump()


# Arrays of tables (`[[name]]`): entries, not keys; the settings API does not list them.
LIST_SECTIONS = frozenset({"onebot_apps"})


def setting_keys() -> Iterator[tuple[str, str]]:
    """Yield (section, key) of every setting, in the order they are declared."""
    for section, field in Settings.model_fields.items():
        model = field.annotation
        if section in LIST_SECTIONS:
            continue
        assert isinstance(model, type) and issubclass(model, Section)
        for key in model.model_fields:
            yield section, key


# Keys whose values are secrets: never shown, only whether they are set. URL_KEYS may carry a
# password or a token in the URL; only that part is hidden.
SECRET_KEYS = frozenset(
    {"api.token", "drivers.tokens", "apps.tokens", "onebot.access_token", "metrics.token"}
)
URL_KEYS = frozenset({"storage.database_url", "traces.otlp_endpoint", "supervisor.master_url"})

# Keys PATCH /api/v1/settings may change while the Master runs: each part reads them when it
# uses them, or follows a change (app.py wires who follows what). Every other key needs a
# restart; retentions change through the same store as PUT /api/v1/db/retention.
RUNTIME_KEYS = frozenset(
    {
        "logging.level",
        "traces.sample_ratio",
        "apps.ack_timeout",
        "apps.max_attempts",
        "apps.max_in_flight",
        "apps.queue_limit",
        "apps.heartbeat_timeout",
        "apps.register_timeout",
        "apps.resume_window",
        "apps.stop_grace",
        "drivers.reply_wait",
        "drivers.reply_queue_limit",
        "limits.max_payload",
        "events.keepalive",
        "stats.flush_interval",
        "admin.login_free_attempts",
        "admin.login_max_attempts",
        "admin.login_delay",
        "admin.login_max_delay",
        "admin.lockout",
        "admin.login_window",
    }
)


class SettingsError(Exception):
    """A configuration problem, phrased as one line for the operator."""


def _env_value(raw: str) -> Any:
    """Read lists and tables as JSON; leave scalars as strings for pydantic to coerce."""
    if raw[:1] in "[{":
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw
    return raw


def _overlay_environment(data: dict[str, Any], environ: Mapping[str, str]) -> set[str]:
    """Apply KENKOGO_<SECTION>__<KEY> variables on top of the file's values; return their keys."""
    keys: set[str] = set()
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        target = data.setdefault(section, {})
        if not isinstance(target, dict):
            raise SettingsError(f"{name}: section [{section}] is not a table in the config file")
        target[key] = _env_value(raw)
        keys.add(f"{section}.{key}")
    return keys


def _file_keys(data: Mapping[str, Any]) -> set[str]:
    """Return `section.key` of every key the file sets."""
    return {
        f"{section}.{key}"
        for section, table in data.items()
        if isinstance(table, dict)
        for key in table
    }


def describe_error(error: ValidationError) -> str:
    """Turn the first validation error into `section.key: problem`."""
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "config"
    message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
    return f"{location}: {message}"


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Load settings from an optional TOML file and the environment; raise SettingsError."""
    data: dict[str, Any] = {}
    if path is not None and path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{path}: not valid TOML ({exc})") from None
        except OSError as exc:
            raise SettingsError(f"{path}: cannot be read ({exc.strerror})") from None
    from_file = _file_keys(data)
    from_env = _overlay_environment(data, os.environ if environ is None else environ)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(describe_error(exc)) from None
    settings._file = path if path is not None and path.exists() else None
    settings._sources = dict.fromkeys(from_file, Source.FILE) | dict.fromkeys(from_env, Source.ENV)
    return settings
