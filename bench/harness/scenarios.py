"""The scenarios the harness runs and the figures it reads from each load result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    """One number in the table: where it sits in a load result and which way is better."""

    label: str
    path: tuple[str, ...]
    unit: str
    higher_is_better: bool

    def read(self, result: dict[str, Any]) -> float | None:
        """Return the figure from one load result, None when it is absent."""
        value: Any = result
        for key in self.path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True)
class ScenarioSpec:
    """One load.js scenario with its full-size and smoke-size arguments."""

    name: str
    full_args: tuple[str, ...]
    quick_args: tuple[str, ...]
    timeout_s: float
    figures: tuple[Figure, ...]

    def args(self, quick: bool) -> tuple[str, ...]:
        """Return the load arguments for a full or a quick run."""
        return self.quick_args if quick else self.full_args


def _latency(scenario: str) -> tuple[Figure, ...]:
    return (
        Figure(f"{scenario} p50", ("latency_ms", "p50"), "ms", higher_is_better=False),
        Figure(f"{scenario} p99", ("latency_ms", "p99"), "ms", higher_is_better=False),
    )


SCENARIOS: dict[str, ScenarioSpec] = {
    spec.name: spec
    for spec in (
        ScenarioSpec(
            name="saturation",
            full_args=("--apps", "4", "--messages", "20000", "--window", "100"),
            quick_args=("--apps", "4", "--messages", "500", "--window", "100", "--warmup", "100"),
            timeout_s=180,
            figures=(
                Figure("saturation", ("msgs_per_s",), "msg/s", higher_is_better=True),
                *_latency("saturation"),
                Figure("saturation server CPU", ("server_cpu_pct",), "%", higher_is_better=False),
            ),
        ),
        ScenarioSpec(
            name="light",
            full_args=("--apps", "4", "--rate", "200", "--duration", "10"),
            quick_args=("--apps", "4", "--rate", "50", "--duration", "1", "--warmup", "10"),
            timeout_s=60,
            figures=_latency("light"),
        ),
        ScenarioSpec(
            name="batches",
            full_args=("--apps", "4", "--messages", "50000", "--batch-size", "100"),
            quick_args=(
                "--apps",
                "4",
                "--messages",
                "500",
                "--batch-size",
                "50",
                "--warmup",
                "100",
            ),
            timeout_s=180,
            figures=(
                Figure("batches", ("msgs_per_s",), "msg/s", higher_is_better=True),
                *_latency("batches"),
            ),
        ),
        ScenarioSpec(
            name="fleet",
            full_args=("--apps", "10000", "--hold", "5"),
            quick_args=("--apps", "100", "--hold", "0.5"),
            timeout_s=240,
            figures=(
                Figure("fleet connects", ("connects_per_s",), "conn/s", higher_is_better=True),
                Figure("fleet RSS per app", ("rss_per_app_kb",), "KB", higher_is_better=False),
            ),
        ),
        ScenarioSpec(
            name="ingest",
            full_args=("--messages", "40000", "--window", "500"),
            quick_args=("--messages", "500", "--window", "100", "--warmup", "100"),
            timeout_s=180,
            figures=(Figure("durable ingest", ("msgs_per_s",), "msg/s", higher_is_better=True),),
        ),
    )
}

LOAD_CPU = Figure("load process CPU (max)", ("load_cpu_pct",), "%", higher_is_better=False)
