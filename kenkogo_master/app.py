"""The application factory: the only place that wires the layers together."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from kenkogo_master.admin.context import admin_context
from kenkogo_master.admin.runtime_settings import RuntimeSettings
from kenkogo_master.api import (
    events,
    openapi,
    routes_accounts,
    routes_apps,
    routes_audit,
    routes_auth,
    routes_db,
    routes_deployments,
    routes_driver_tokens,
    routes_files,
    routes_health,
    routes_i18n,
    routes_logs,
    routes_messages,
    routes_metrics,
    routes_onebot_apps,
    routes_packages,
    routes_panel,
    routes_panel_texts,
    routes_routing,
    routes_runners,
    routes_settings,
    routes_simulate,
    routes_stats,
    routes_system,
    routes_tokens,
    routes_traces,
    routes_uploads,
    security_headers,
)
from kenkogo_master.api.audit_trail import audit_middleware
from kenkogo_master.api.auth import auth_middleware
from kenkogo_master.api.bootstrap import ensure_admin_token
from kenkogo_master.api.errors import error_middleware
from kenkogo_master.api.origins import edge_middleware
from kenkogo_master.deploy.context import INSTALLER, PACKAGES, packages_context
from kenkogo_master.deploy.placement import Placement
from kenkogo_master.deploy.supervisor import Supervisor
from kenkogo_master.files.area import open_area
from kenkogo_master.hub.flow import MessageFlow
from kenkogo_master.hub.hub import Hub
from kenkogo_master.hub.lifecycle import AppLifecycle
from kenkogo_master.hub.replies import translator_renderer
from kenkogo_master.hub.sessions import AppSession
from kenkogo_master.hub.states import AppState
from kenkogo_master.i18n.locale import normalize as normalize_locale
from kenkogo_master.i18n.service import I18n, load_texts
from kenkogo_master.ids import now_ms
from kenkogo_master.keys import (
    APP_RECORDS,
    DRIVER_TOKENS,
    ENGINE,
    EVENT_BUS,
    FILES,
    HUB,
    I18N,
    LAUNCH_RESOLVER,
    MAINTENANCE,
    MESSAGES,
    PLACEMENT,
    PRUNER,
    RETENTION,
    RUNNERS,
    RUNTIME_SETTINGS,
    SETTINGS,
    SIO,
    STARTED_AT,
    SUPERVISOR,
    TELEMETRY,
    TOKENS,
    WRITER,
)
from kenkogo_master.observability.buckets import Period
from kenkogo_master.observability.contexts import (
    end_live_streams,
    live_context,
    logs_context,
    telemetry_context,
)
from kenkogo_master.observability.logs import NOISY, apply_level
from kenkogo_master.observability.periodic import Periodic
from kenkogo_master.runners.credentials import Credentials
from kenkogo_master.runners.registry import Runners
from kenkogo_master.settings import Settings
from kenkogo_master.stopping import hand_over
from kenkogo_master.store import migrate
from kenkogo_master.store.app_records import AppRecords
from kenkogo_master.store.db import create_engine
from kenkogo_master.store.deployments import DeploymentRecords
from kenkogo_master.store.driver_records import DriverRecords
from kenkogo_master.store.driver_tokens import DriverTokenStore
from kenkogo_master.store.i18n_records import I18nRecords
from kenkogo_master.store.maintenance import Maintenance
from kenkogo_master.store.message_records import MessageRecords
from kenkogo_master.store.pruner import Pruner
from kenkogo_master.store.retention import Retention
from kenkogo_master.store.runner_records import RunnerRecords
from kenkogo_master.store.settings_overrides import SettingOverrides
from kenkogo_master.store.tokens import TokenStore
from kenkogo_master.store.writer import Writer
from kenkogo_master.transport import onebot_apps, onebot_v11
from kenkogo_master.transport.raw_ws import RawWebSocketEndpoint
from kenkogo_master.transport.simulator import simulator_context
from kenkogo_master.transport.sio_apps import AppNamespace
from kenkogo_master.transport.sio_drivers import DriverNamespace
from kenkogo_master.transport.sio_runners import RunnerNamespace
from kenkogo_master.transport.sio_server import advertise_limits, create_sio_server

log = logging.getLogger(__name__)

MAX_REQUEST_LINE = 32 * 1024

CleanupContext = Callable[[web.Application], AsyncIterator[None]]


async def _database(app: web.Application) -> AsyncIterator[None]:
    """Open the engine, migrate to head, and start the group-commit writer."""
    settings = app[SETTINGS]
    engine = create_engine(settings.storage)
    await migrate.upgrade(engine)
    writer = Writer(
        engine,
        interval=settings.storage.flush_interval_ms / 1000,
        max_rows=settings.storage.flush_max_rows,
        queue_limit=settings.storage.writer_queue_limit,
        eager=True,  # a trickle commits at once: light-load latency without an interval's wait
        synchronous=settings.storage.synchronous,
    )
    await writer.start()
    app[ENGINE] = engine
    app[WRITER] = writer
    app[APP_RECORDS] = AppRecords(engine, writer)
    yield
    await writer.stop()
    await engine.dispose()


async def _runtime_settings(app: web.Application) -> AsyncIterator[None]:
    """Apply the settings changed at run time before the parts that read them start."""
    settings = app[SETTINGS]
    runtime = RuntimeSettings(settings, SettingOverrides(app[ENGINE], app[WRITER]))
    # The process's logging as it was, to leave it so (a test process serves many Masters).
    levels = {name: logging.getLogger(name).level for name in ("", *NOISY)}
    runtime.listen("logging.level", apply_level)

    def follow_max_payload(_: int) -> None:
        # Fixed by aiohttp and engine.io when the app was made: both read these per request.
        app._client_max_size = settings.limits.max_payload
        advertise_limits(app[SIO], settings)

    runtime.listen("limits.max_payload", follow_max_payload)
    await runtime.load()
    app[RUNTIME_SETTINGS] = runtime
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def _follow_settings(app: web.Application) -> None:
    """Let the parts that copied a run-time key when they started follow its changes."""
    runtime, telemetry = app[RUNTIME_SETTINGS], app[TELEMETRY]
    runtime.listen("traces.sample_ratio", telemetry.set_sample_ratio)
    runtime.listen("stats.flush_interval", telemetry.set_flush_interval)
    runtime.follow_retention(app[RETENTION])


async def _api_tokens(app: web.Application) -> AsyncIterator[None]:
    """Load API tokens, creating the first admin token when there is none."""
    settings = app[SETTINGS]
    tokens = TokenStore(app[ENGINE], settings.api.token)
    await tokens.load()
    await ensure_admin_token(tokens, settings.storage.data_dir)
    app[TOKENS] = tokens
    # Last-used times are noted in memory per request and saved at most once a minute.
    usage = Periodic("token-usage", 60.0, lambda: tokens.save_usage(app[WRITER]), final=True)
    usage.start()
    yield
    await usage.stop()


async def _files(app: web.Application) -> AsyncIterator[None]:
    """Create and open the file area's root (where the system can confine paths to it)."""
    area = open_area(app[SETTINGS])
    if area is not None:
        app[FILES] = area
    yield
    if area is not None:
        await asyncio.to_thread(area.close)  # waits for file work still running


async def _i18n(app: web.Application) -> AsyncIterator[None]:
    """Load the catalogs, seed the texts table, load overrides and chat locales into memory."""
    texts = load_texts(app[SETTINGS].i18n)
    i18n = I18n(texts, I18nRecords(app[ENGINE], app[WRITER]), now_ms)
    await i18n.start()
    app[I18N] = i18n
    yield


async def _db_care(app: web.Application) -> AsyncIterator[None]:
    """Load the retentions and start pruning; the one place old rows are deleted."""
    settings = app[SETTINGS]
    maintenance = Maintenance(app[ENGINE], app[WRITER], settings.storage.data_dir)
    retention = Retention(settings, app[ENGINE], app[WRITER])
    telemetry = app[TELEMETRY]

    def follow(name: str, days: float) -> None:
        # The statistics queries reach back as far as each bucket size is kept.
        period = name.removeprefix("stats_")
        if period in {member.value for member in Period}:
            telemetry.set_retention(Period(period), days)

    retention.listen(follow)
    await retention.load()
    pruner = Pruner(
        maintenance,
        retention,
        batch_rows=settings.retention.batch_rows,
        interval=settings.retention.interval,
    )
    app[MAINTENANCE] = maintenance
    app[RETENTION] = retention
    app[PRUNER] = pruner
    _follow_settings(app)
    pruner.start()
    yield
    await pruner.stop()


async def _hub(app: web.Application) -> AsyncIterator[None]:
    """Build the hub and start the app lifecycle."""
    settings = app[SETTINGS]
    texts = app[I18N].translator
    bus = app[EVENT_BUS]
    apps = AppLifecycle(settings.apps, app[APP_RECORDS], bus, texts, normalize_locale)
    flow = MessageFlow.build(
        settings,
        apps,
        bus,
        texts,
        DriverRecords(app[ENGINE], app[WRITER]),
        MessageRecords(app[ENGINE], app[WRITER]),
        app[I18N].chat_locale,
        translator_renderer(texts),
        app[TELEMETRY].telemetry,
    )
    hub = Hub(settings=settings, apps=apps, bus=bus, texts=texts, flow=flow)
    app[HUB] = hub
    app[SIO].describe_error = lambda code: hub.error_of(code, None)
    away = await apps.start()
    await flow.start(settings.apps, away)
    app[SIO].register_namespace(AppNamespace(hub))
    driver_tokens = DriverTokenStore(app[ENGINE], settings.drivers.tokens)
    await driver_tokens.load()
    app[DRIVER_TOKENS] = driver_tokens
    app[MESSAGES] = flow.records
    app[SIO].register_namespace(DriverNamespace(hub, driver_tokens))
    yield
    # The apps and drivers were parted with on shutdown (_part_with_peers); finish the rows.
    await flow.stop()


async def _runners(app: web.Application) -> AsyncIterator[None]:
    """Load the known runners and serve /runner (runners find a restarted Master by themselves)."""
    records = RunnerRecords(app[ENGINE])
    runners = Runners(records, Credentials(records), app[EVENT_BUS], app[SETTINGS].runners)
    await runners.load()
    runners.start()
    app[RUNNERS] = runners
    app[SIO].register_namespace(RunnerNamespace(app[HUB], runners))
    yield
    await runners.stop()


def master_url(settings: Settings) -> str:
    """Return the URL the deployed apps reach this Master at."""
    if settings.supervisor.master_url is not None:
        return settings.supervisor.master_url
    host = settings.server.host
    if host in ("", "0.0.0.0", "::"):  # every address: the loopback is one of them
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.server.port}"


async def _deployments(app: web.Application) -> AsyncIterator[None]:
    """Run the deployed apps: end what a killed Master left, start the enabled ones."""
    settings = app[SETTINGS]
    hub = app[HUB]
    supervisor = Supervisor(
        DeploymentRecords(app[ENGINE]),
        # The installed revisions; a test may put its own launch specs in their place.
        app.get(LAUNCH_RESOLVER) or app[INSTALLER].installed,
        hub.apps.deployment_tokens,
        app[EVENT_BUS],
        settings.supervisor,
        settings.storage.data_dir / "logs" / "apps",
        lambda: master_url(settings),
    )

    def follow(session: AppSession, _from: AppState, to: AppState) -> None:
        if session.deployment is not None and to is AppState.PAUSED:  # just registered
            supervisor.registered(session.deployment, session.id)

    hub.apps.on_transition(follow)
    app[SUPERVISOR] = supervisor
    app[PLACEMENT] = Placement(
        supervisor, app[RUNNERS], settings.supervisor.labels, app[PACKAGES].revision
    )
    await supervisor.load()
    yield
    await supervisor.shutdown()  # done already when the Master stopped normally
    await supervisor.close()


async def _stop_deployments(app: web.Application) -> None:
    """Stop the deployed apps, all at once, while they can still finish with the Master."""
    supervisor = app.get(SUPERVISOR)
    if supervisor is not None:
        await supervisor.shutdown()


async def _part_with_peers(app: web.Application) -> None:
    """Disconnect apps and drivers at shutdown's start: aiohttp waits for open sockets first.

    Engine.IO keeps an idle WebSocket open until its ping times out (45 s), so without this a
    stop with apps connected would hang that long before any cleanup ran.
    """
    hub = app.get(HUB)
    if hub is None or hub.flow is None:  # start-up failed before the hub existed
        return
    # Done already when a signal stopped the Master (see stopping.py). Scheduling ends before
    # the apps go, so that their in-flight messages are not redelivered to each other.
    await hand_over(app)
    await hub.apps.stop()
    for driver in hub.flow.drivers.live():
        await driver.peer.close()
    # Leaving a namespace leaves the Engine.IO connection open, which aiohttp would wait for.
    if app[SIO].eio.sockets:  # (it fails on none)
        await app[SIO].eio.disconnect()


async def _raw_websocket(request: web.Request) -> web.StreamResponse:
    """Serve /ws with the running hub."""
    return await RawWebSocketEndpoint(request.app[HUB]).handle(request)


def create_app(settings: Settings) -> web.Application:
    """Create the Master's web application for `settings`."""
    app = web.Application(
        # Outermost the audit, so that it sees every answer, the error funnel's included.
        # The edge checks (browser origins, agents' certificates) come before any credential.
        middlewares=[audit_middleware, error_middleware, edge_middleware, auth_middleware],
        client_max_size=settings.limits.max_payload,
        # aiohttp refuses a longer request line in plain text, before any middleware: 32 KiB
        # holds every query parameter at its longest, percent-encoded, so that one too long is
        # still answered by validation with `{code, message}`.
        handler_args={"max_line_size": MAX_REQUEST_LINE},
    )
    app[SETTINGS] = settings
    app[STARTED_AT] = time.monotonic()
    security_headers.setup(app)
    app.cleanup_ctx.extend(
        [
            logs_context,
            _database,
            _runtime_settings,
            _api_tokens,
            _files,
            _i18n,
            telemetry_context,
            admin_context,
            _db_care,
            _hub,
            _runners,
            packages_context,
            _deployments,  # after the packages: it starts what they installed
            live_context,
        ]
    )
    app.on_shutdown.extend([end_live_streams, _stop_deployments, _part_with_peers])
    app.cleanup_ctx.append(simulator_context)  # a driver, so it needs the hub
    # Routes are fixed before start-up; the namespaces that need the hub join once it exists.
    sio = create_sio_server(settings)
    sio.attach(app)
    app[SIO] = sio
    app.router.add_get("/ws", _raw_websocket)
    app.router.add_routes(routes_health.routes)
    routes_panel.setup(app)
    app.router.add_routes(routes_auth.routes)
    app.router.add_routes(routes_accounts.routes)
    app.router.add_routes(routes_apps.routes)
    app.router.add_routes(routes_messages.routes)
    app.router.add_routes(routes_routing.routes)
    app.router.add_routes(routes_driver_tokens.routes)
    app.router.add_routes(routes_runners.routes)
    app.router.add_routes(routes_onebot_apps.routes)
    app.router.add_routes(routes_i18n.routes)
    app.router.add_routes(routes_panel_texts.routes)
    app.router.add_routes(routes_tokens.routes)
    app.router.add_routes(routes_audit.routes)
    app.router.add_routes(routes_files.routes)
    app.router.add_routes(routes_uploads.routes)
    app.router.add_routes(routes_packages.routes)
    app.router.add_routes(routes_stats.routes)
    app.router.add_routes(routes_traces.routes)
    app.router.add_routes(routes_system.routes)
    app.router.add_routes(routes_db.routes)
    app.router.add_routes(routes_deployments.routes)
    app.router.add_routes(routes_logs.routes)
    app.router.add_routes(routes_settings.routes)
    app.router.add_routes(events.routes)
    if settings.metrics.enabled:
        app.router.add_routes(routes_metrics.routes)
    app.router.add_routes(routes_simulate.routes)
    onebot_v11.setup(app)
    onebot_apps.setup(app)  # after the simulator: it follows the drivers that attach
    openapi.setup(app)  # last: it documents the routes above
    return app
