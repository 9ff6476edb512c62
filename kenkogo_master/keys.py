"""Typed keys of the resources shared through the aiohttp application."""

from __future__ import annotations

import socketio
from aiohttp import web
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.admin.accounts import Accounts
from kenkogo_master.admin.audit import AuditLog
from kenkogo_master.admin.runtime_settings import RuntimeSettings
from kenkogo_master.admin.sessions import Sessions
from kenkogo_master.admin.throttle import LoginThrottle
from kenkogo_master.deploy.placement import Placement
from kenkogo_master.deploy.supervisor import Resolver, Supervisor
from kenkogo_master.files.area import FileArea
from kenkogo_master.hub.events import EventBus
from kenkogo_master.hub.hub import Hub
from kenkogo_master.i18n.service import I18n
from kenkogo_master.observability.live import LiveStreams
from kenkogo_master.observability.log_ring import LogRing
from kenkogo_master.observability.service import TelemetryService
from kenkogo_master.observability.system import SystemSampler
from kenkogo_master.runners.registry import Runners
from kenkogo_master.settings import Settings
from kenkogo_master.store.app_records import AppRecords
from kenkogo_master.store.driver_tokens import DriverTokenStore
from kenkogo_master.store.maintenance import Maintenance
from kenkogo_master.store.message_records import MessageRecords
from kenkogo_master.store.pruner import Pruner
from kenkogo_master.store.retention import Retention
from kenkogo_master.store.tokens import TokenStore
from kenkogo_master.store.writer import Writer

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
WRITER = web.AppKey("writer", Writer)
APP_RECORDS = web.AppKey("app_records", AppRecords)
TOKENS = web.AppKey("tokens", TokenStore)
HUB = web.AppKey("hub", Hub)
MESSAGES = web.AppKey("messages", MessageRecords)
DRIVER_TOKENS = web.AppKey("driver_tokens", DriverTokenStore)
I18N = web.AppKey("i18n", I18n)
STARTED_AT = web.AppKey("started_at", float)
SIO = web.AppKey("sio", socketio.AsyncServer)
EVENT_BUS = web.AppKey("event_bus", EventBus)
TELEMETRY = web.AppKey("telemetry", TelemetryService)
LIVE_STREAMS = web.AppKey("live_streams", LiveStreams)
LOG_RING = web.AppKey("log_ring", LogRing)
SYSTEM = web.AppKey("system", SystemSampler)
METRICS = web.AppKey("metrics", CollectorRegistry)
ACCOUNTS = web.AppKey("accounts", Accounts)
SESSIONS = web.AppKey("sessions", Sessions)
AUDIT = web.AppKey("audit", AuditLog)
LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)
FILES = web.AppKey("files", FileArea)
MAINTENANCE = web.AppKey("maintenance", Maintenance)
RETENTION = web.AppKey("retention", Retention)
PRUNER = web.AppKey("pruner", Pruner)
RUNTIME_SETTINGS = web.AppKey("runtime_settings", RuntimeSettings)
RUNNERS = web.AppKey("runners", Runners)
SUPERVISOR = web.AppKey("supervisor", Supervisor)
PLACEMENT = web.AppKey("placement", Placement)
# Set before start-up by whoever knows the installed packages; none: nothing is installed.
LAUNCH_RESOLVER = web.AppKey("launch_resolver", Resolver)
