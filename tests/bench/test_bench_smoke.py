"""A smoke run of the benchmark harness against the Master and both relays, so it cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(240)
def test_quick_run_measures_every_scenario_on_the_master(tmp_path: Path) -> None:
    """The default run: the harness and every scenario against the Master alone."""
    done = quick_run(tmp_path, "master")
    assert done.returncode == 0, done.stdout + done.stderr
    (written,) = tmp_path.glob("quick-*.json")
    document = json.loads(written.read_text())
    assert document["unavailable"] == {}
    assert {r["scenario"] for r in document["runs"] if r["ok"]} == {
        "saturation",
        "light",
        "batches",
        "fleet",
        "ingest",
    }
    medians = document["medians"]["master"]
    assert medians["saturation"] > 0 and medians["fleet connects"] > 0
    assert 0 < medians["light p50"] <= medians["light p99"]
    assert medians["durable ingest"] > 0  # the Master acked events only after their commit


def quick_run(results: Path, *systems: str) -> subprocess.CompletedProcess[str]:
    """Run `bench/run.py --quick` for `systems`, results into `results`."""
    return subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "run.py"),
            "--quick",
            "--systems",
            *systems,
            "--results",
            str(results),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=220,
        check=False,
    )


@pytest.mark.long  # the two relays as well: twice as long again (`--long`)
@pytest.mark.timeout(240)
def test_quick_run_measures_every_scenario_on_every_system(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "run.py"),
            "--quick",
            "--systems",
            "py-relay",
            "node-relay",
            "master",
            "--results",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=220,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (written,) = tmp_path.glob("quick-*.json")
    document = json.loads(written.read_text())
    assert document["unavailable"] == {}
    assert {(r["system"], r["scenario"]) for r in document["runs"] if r["ok"]} == {
        (system, scenario)
        for system in ("py-relay", "node-relay", "master")
        for scenario in ("saturation", "light", "batches", "fleet", "ingest")
    }
    for system in ("py-relay", "node-relay", "master"):
        medians = document["medians"][system]
        assert medians["saturation"] > 0
        assert medians["fleet connects"] > 0
        assert 0 < medians["light p50"] <= medians["light p99"]
    assert document["ratios_to_py-relay"]["py-relay"]["saturation"] == 1.0
    assert medians["durable ingest"] > 0  # the Master acked events only after their commit
    header = done.stdout.splitlines()[0]
    assert "node-relay" in header and "master" in header
