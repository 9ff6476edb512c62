"""Wire the package store and the installer into the application."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from kenkogo_master.deploy.archive import ArchiveLimits
from kenkogo_master.deploy.install import Installer
from kenkogo_master.deploy.packages import PackageStore
from kenkogo_master.keys import ENGINE, EVENT_BUS, SETTINGS
from kenkogo_master.store.package_records import PackageRecords

PACKAGES = web.AppKey("packages", PackageStore)
INSTALLER = web.AppKey("installer", Installer)


async def packages_context(app: web.Application) -> AsyncIterator[None]:
    """Open <data_dir>/packages and <data_dir>/apps; stop the installs under way at the end."""
    settings = app[SETTINGS]
    limits = ArchiveLimits(
        max_entries=settings.packages.max_entries,
        max_unpacked=settings.packages.max_unpacked,
        max_ratio=settings.packages.max_ratio,
    )
    data_dir = settings.storage.data_dir.absolute()
    store = PackageStore(data_dir / "packages", PackageRecords(app[ENGINE]), limits)
    store.open()
    installer = Installer(data_dir / "apps", store, app[EVENT_BUS], settings.packages)
    await installer.open()
    app[PACKAGES] = store
    app[INSTALLER] = installer
    yield
    await installer.close()
