"""Reduce repeated runs to medians, ratios to the baseline, one table and one JSON file."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.scenarios import LOAD_CPU, Figure, ScenarioSpec

BASELINE = "py-relay"
LOAD_CPU_WARN_PCT = 95.0


@dataclass
class Outcome:
    """Everything one harness invocation measured."""

    systems: list[str]
    scenarios: list[ScenarioSpec]
    quick: bool = False
    unavailable: dict[str, str] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)

    def results(self, system: str, scenario: str) -> list[dict[str, Any]]:
        """Return the successful load results of one system in one scenario."""
        return [
            run["result"]
            for run in self.runs
            if run["system"] == system and run["scenario"] == scenario and run["ok"]
        ]


def medians(outcome: Outcome) -> dict[str, dict[str, float | None]]:
    """Return each system's median of each figure over its successful runs."""
    table: dict[str, dict[str, float | None]] = {}
    for system in outcome.systems:
        row: dict[str, float | None] = {}
        cpu: list[float] = []
        for spec in outcome.scenarios:
            results = outcome.results(system, spec.name)
            for figure in spec.figures:
                values = [v for v in (figure.read(r) for r in results) if v is not None]
                row[figure.label] = statistics.median(values) if values else None
            cpu += [v for v in (LOAD_CPU.read(r) for r in results) if v is not None]
        row[LOAD_CPU.label] = max(cpu) if cpu else None
        table[system] = row
    return table


def ratios(table: dict[str, dict[str, float | None]]) -> dict[str, dict[str, float | None]]:
    """Return each figure divided by the bare python-socketio relay's."""
    base = table.get(BASELINE, {})
    out: dict[str, dict[str, float | None]] = {}
    for system, row in table.items():
        out[system] = {}
        for label, value in row.items():
            ref = base.get(label)
            out[system][label] = value / ref if value is not None and ref else None
    return out


def _figures(outcome: Outcome) -> list[Figure]:
    return [figure for spec in outcome.scenarios for figure in spec.figures] + [LOAD_CPU]


def _load_cpu_notes(outcome: Outcome) -> list[str]:
    notes = []
    for system in outcome.systems:
        for spec in outcome.scenarios:
            shares = [LOAD_CPU.read(r) for r in outcome.results(system, spec.name)]
            peak = max((v for v in shares if v is not None), default=0.0)
            if peak >= LOAD_CPU_WARN_PCT:
                notes.append(
                    f"{system} {spec.name}: the load process reached {peak:.0f} % CPU in one run;"
                    " that figure may be capped by the load, not the server"
                )
    return notes


def _fmt(value: float, unit: str) -> str:
    if unit in ("msg/s", "conn/s", "%"):
        return f"{value:,.0f}"
    if unit == "KB":
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def render(outcome: Outcome) -> str:
    """Return the table: one row per figure, one column per system, ratios to the baseline."""
    table = medians(outcome)
    rel = ratios(table)
    header = ["figure", *outcome.systems]
    rows = [header]
    for figure in _figures(outcome):
        row = [f"{figure.label} ({figure.unit}{'' if figure.higher_is_better else ', lower'})"]
        for system in outcome.systems:
            value = table[system].get(figure.label)
            if system in outcome.unavailable:
                row.append("unavailable")
            elif value is None:
                row.append("failed")
            elif figure is LOAD_CPU or rel[system].get(figure.label) is None:
                row.append(_fmt(value, figure.unit))
            else:
                row.append(f"{_fmt(value, figure.unit)} ({rel[system][figure.label]:.2f}×)")
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [
        f"{system}: unavailable ({why.splitlines()[0]})"
        for system, why in outcome.unavailable.items()
    ]
    if not outcome.quick:  # a smoke run's intervals are too short for a CPU share to mean much
        notes += _load_cpu_notes(outcome)
    failed = [
        run for run in outcome.runs if not run["ok"] and run["system"] not in outcome.unavailable
    ]
    notes += [
        f"{run['system']} {run['scenario']} #{run['repetition']}: {run.get('error')}"
        for run in failed
    ]
    return "\n".join([*lines, "", *notes] if notes else lines)


def _command(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def machine() -> dict[str, Any]:
    """Describe the machine the figures were measured on."""
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": _command(["node", "--version"]),
    }


def write_json(outcome: Outcome, directory: Path, config: dict[str, Any]) -> Path:
    """Write the whole outcome to bench/results/ and return the file's path."""
    now = datetime.now(UTC)
    table = medians(outcome)
    prefix = "quick-" if config.get("quick") else ""
    path = directory / f"{prefix}{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    directory.mkdir(parents=True, exist_ok=True)
    document = {
        "date": now.isoformat(timespec="seconds"),
        "machine": machine(),
        "config": config,
        "unavailable": outcome.unavailable,
        "medians": table,
        "ratios_to_" + BASELINE: ratios(table),
        "table": render(outcome),
        "runs": outcome.runs,
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return path
