"""Prometheus metrics, read from the in-memory counters at scrape time (nothing on the hot path)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from kenkogo_master import __version__
from kenkogo_master.observability.service import TelemetryService
from kenkogo_master.observability.stats import Metric

# metric -> (Prometheus name without _total, help, label)
COUNTERS: dict[Metric, tuple[str, str, str]] = {
    Metric.MESSAGES: ("kenkogo_messages_received", "Inbound messages stored.", "platform"),
    Metric.DELIVERIES: ("kenkogo_deliveries", "Messages sent to an app name.", "app"),
    Metric.REPLIES: ("kenkogo_replies", "Replies and sends from apps.", "app"),
    Metric.RETRIES: ("kenkogo_delivery_retries", "Delivery attempts after the first.", "app"),
    Metric.TIMEOUTS: ("kenkogo_delivery_timeouts", "Attempts unanswered in time.", "app"),
    Metric.UNROUTED: ("kenkogo_messages_unrouted", "Messages no app matched.", "platform"),
    Metric.DROPPED: ("kenkogo_messages_dropped", "Messages pushed out of full queues.", "app"),
    Metric.FAILED: ("kenkogo_deliveries_failed", "Deliveries that ran out of attempts.", "app"),
    Metric.EXPIRED: (
        "kenkogo_expired",
        "Queued messages or replies that waited in vain.",
        "app",
    ),
    Metric.ACTIONS_FAILED: (
        "kenkogo_driver_actions_failed",
        "Replies a driver could not send.",
        "driver",
    ),
}

Snapshot = Callable[[], dict[str, Any]]


class MasterCollector(Collector):
    """Expose the Master's counters and gauges; everything is read when Prometheus scrapes."""

    def __init__(
        self, telemetry: TelemetryService, connections: Snapshot, sample: Snapshot
    ) -> None:
        self._telemetry = telemetry
        self._connections = connections
        self._sample = sample

    def collect(self) -> Iterator[Any]:
        """Yield every metric family."""
        yield InfoMetricFamily("kenkogo_build", "The Master's version.", {"version": __version__})
        totals = self._telemetry.recorder.totals
        families = {
            metric.value: CounterMetricFamily(name, text, labels=[label])
            for metric, (name, text, label) in COUNTERS.items()
        }
        for (metric, dim1), value in sorted(totals.items()):
            family = families.get(metric)
            if family is not None:
                family.add_metric([dim1], value)
        yield from families.values()
        connections = self._connections()
        apps = GaugeMetricFamily("kenkogo_apps", "App connections by state.", labels=["state"])
        for state, count in sorted(connections["apps"]["by_state"].items()):
            apps.add_metric([state], count)
        yield apps
        drivers = GaugeMetricFamily(
            "kenkogo_drivers", "Live drivers by platform.", labels=["platform"]
        )
        for platform, count in sorted(connections["drivers"]["by_platform"].items()):
            drivers.add_metric([platform], count)
        yield drivers
        yield GaugeMetricFamily(
            "kenkogo_event_streams",
            "Open /api/v1/events readers.",
            value=connections["event_streams"],
        )
        sample = self._sample()
        yield GaugeMetricFamily(
            "kenkogo_messages_per_second",
            "Inbound messages per second over the last system sample.",
            value=sample.get("messages_per_second", 0.0),
        )
        yield GaugeMetricFamily(
            "kenkogo_uptime_seconds",
            "Seconds since the Master started.",
            value=sample["master"]["uptime_s"],
        )
        tracer = self._telemetry.tracer
        yield CounterMetricFamily(
            "kenkogo_traced_messages", "Messages traced.", value=tracer.traced
        )
        yield GaugeMetricFamily(
            "kenkogo_open_traces", "Traces waiting to finish.", value=tracer.open_count()
        )
        exporter = self._telemetry.exporter
        if exporter is not None:
            yield CounterMetricFamily(
                "kenkogo_spans_exported", "Spans handed to SQL.", value=exporter.exported
            )


def build_registry(
    telemetry: TelemetryService, connections: Snapshot, sample: Snapshot
) -> CollectorRegistry:
    """Return a registry of this Master's metrics plus the process, platform and GC collectors."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MasterCollector(telemetry, connections, sample))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry
