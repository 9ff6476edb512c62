"""The message flow's parts, built and started together: drivers, ingest, scheduler, replies."""

from __future__ import annotations

from dataclasses import dataclass

from kenkogo_master.hub.drivers import DriverRegistry
from kenkogo_master.hub.ingest import Ingest


@dataclass(slots=True)
class MessageFlow:
    """Everything between a driver's event and an app's reply."""

    drivers: DriverRegistry
    ingest: Ingest
