"""Machine and process samples (psutil), taken by one background task every few seconds."""

from __future__ import annotations

import os
import platform
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from kenkogo_master import __version__
from kenkogo_master.hub.events import EventBus
from kenkogo_master.ids import now_ms

Connections = Callable[[], dict[str, Any]]
HISTORY_SECONDS = 600  # the live charts look back this far when a page opens


def point(sample: dict[str, Any]) -> dict[str, Any]:
    """Return the few figures of a sample that live charts draw."""
    connections = sample["connections"]
    return {
        "time_ms": sample["time_ms"],
        "cpu_percent": sample["cpu"]["machine_percent"],
        "process_cpu_percent": sample["cpu"]["process_percent"],
        "memory_percent": sample["memory"]["machine_percent"],
        "process_rss_bytes": sample["memory"]["process_rss_bytes"],
        "apps": connections["apps"]["total"],
        "drivers": connections["drivers"]["total"],
        "messages_per_second": sample["messages_per_second"],
    }


def static_info() -> dict[str, Any]:
    """Return what does not change while the process runs."""
    return {
        "os": {
            "system": platform.system(),
            "release": platform.release(),
            "version": platform.version(),
            "machine": platform.machine(),
            "hostname": platform.node(),
        },
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "master": {"version": __version__, "pid": os.getpid()},
        "cpu_count": psutil.cpu_count(logical=True) or 1,
        "boot_ms": int(psutil.boot_time() * 1000),
    }


class SystemSampler:
    """Sample CPU, memory, disk, connections and message rate; publish each sample."""

    def __init__(
        self,
        *,
        data_dir: Path,
        started_monotonic: float,
        connections: Connections,
        messages_total: Callable[[], int],
        bus: EventBus,
        interval: float = 2.0,
    ) -> None:
        self._data_dir = data_dir
        self.interval = interval
        self.history: deque[dict[str, Any]] = deque(maxlen=max(1, int(HISTORY_SECONDS / interval)))
        self._started = started_monotonic
        self._started_ms = now_ms() - int((time.monotonic() - started_monotonic) * 1000)
        self._connections = connections
        self._messages_total = messages_total
        self._bus = bus
        self._process = psutil.Process()
        self._static = static_info()
        self._last_count = messages_total()
        self._last_at = time.monotonic()
        self.latest: dict[str, Any] | None = None
        # The first cpu_percent call only starts the measurement; prime both now.
        psutil.cpu_percent(interval=None)
        self._process.cpu_percent(interval=None)

    def sample(self) -> dict[str, Any]:
        """Take a sample now, keep it as the latest and return it."""
        now = time.monotonic()
        count = self._messages_total()
        elapsed = now - self._last_at
        rate = (count - self._last_count) / elapsed if elapsed > 0 else 0.0
        self._last_count, self._last_at = count, now
        memory = psutil.virtual_memory()
        with self._process.oneshot():
            process_cpu = self._process.cpu_percent(interval=None)
            rss = self._process.memory_info().rss
            threads = self._process.num_threads()
            fds = self._process.num_fds() if hasattr(self._process, "num_fds") else None
        try:
            disk = psutil.disk_usage(str(self._data_dir))
            disk_info: dict[str, Any] | None = {
                "path": str(self._data_dir.resolve()),
                "total_bytes": disk.total,
                "used_bytes": disk.used,
                "free_bytes": disk.free,
                "percent": disk.percent,
            }
        except OSError:
            disk_info = None
        cpu_count = self._static["cpu_count"]
        self.latest = {
            **self._static,
            "time_ms": now_ms(),
            "master": {
                **self._static["master"],
                "started_ms": self._started_ms,
                "uptime_s": round(now - self._started, 3),
            },
            "cpu": {
                "machine_percent": psutil.cpu_percent(interval=None),
                # A process can use more than one core: 100 % here means all of them.
                "process_percent": round(process_cpu / cpu_count, 1),
                "process_core_percent": process_cpu,
                "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            },
            "memory": {
                "machine_total_bytes": memory.total,
                "machine_used_bytes": memory.total - memory.available,
                "machine_available_bytes": memory.available,
                "machine_percent": memory.percent,
                "process_rss_bytes": rss,
            },
            "process": {"threads": threads, "open_files": fds},
            "disk": disk_info,
            "connections": self._connections(),
            "messages_per_second": round(rate, 2),
        }
        return self.latest

    async def step(self) -> None:
        """Sample, remember the sample's figures and publish it on the bus as `system.sample`."""
        sample = self.sample()
        self.history.append(point(sample))
        self._bus.publish("system.sample", sample)
