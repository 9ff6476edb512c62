"""Benchmark the Master against a bare python-socketio relay and a bare Node socket.io relay.

Each system runs as its own process on a free loopback port with a fresh data directory, once per
scenario and repetition; a Node load process (bench/load/load.js) drives it. The median of each
figure goes into one table, with its ratio to the python-socketio relay, and the whole run into
bench/results/. Usage: `python bench/run.py [--quick] [--systems ...] [--scenarios ...]`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from harness.report import Outcome, render, write_json
from harness.scenarios import SCENARIOS, ScenarioSpec
from harness.systems import BENCH_DIR, SYSTEMS, Running, Unavailable, started

LOAD_SCRIPT = BENCH_DIR / "load" / "load.js"
RESULTS_DIR = BENCH_DIR / "results"
OPEN_FILES_WANTED = 65536


def ensure_node_modules() -> None:
    """Install the pinned Node packages when they are missing."""
    if (BENCH_DIR / "node_modules" / "socket.io-client").exists():
        return
    print("installing bench/ Node packages (npm ci)…", file=sys.stderr)
    subprocess.run(
        ["npm", "ci", "--prefix", str(BENCH_DIR), "--no-audit", "--no-fund"],
        check=True,
        timeout=300,
        stdout=sys.stderr,
    )


def raise_open_files() -> None:
    """Lift the soft open-file limit, which the children inherit, for the idle-fleet scenario."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES_WANTED if hard == resource.RLIM_INFINITY else min(hard, OPEN_FILES_WANTED)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def run_load(running: Running, spec: ScenarioSpec, quick: bool) -> dict[str, Any]:
    """Run one scenario against a started system and return the load process's JSON."""
    argv = [
        "node",
        str(LOAD_SCRIPT),
        "--url",
        running.url,
        "--scenario",
        spec.name,
        "--server-pid",
        str(running.process.pid),
        "--clk-tck",
        str(os.sysconf("SC_CLK_TCK")),
        "--timeout",
        str(int(spec.timeout_s)),
        *spec.args(quick),
    ]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=spec.timeout_s + 15, check=False
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"load process killed after {spec.timeout_s + 15:.0f} s"}
    lines = done.stdout.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        return {"ok": False, "error": f"load exited {done.returncode}: {done.stderr[-500:]}"}
    return result


def run_once(
    outcome: Outcome, system: str, spec: ScenarioSpec, repetition: int, quick: bool
) -> None:
    """Start a fresh system, run one scenario against it, and record what happened."""
    record: dict[str, Any] = {"system": system, "scenario": spec.name, "repetition": repetition}
    started_at = time.monotonic()
    try:
        with started(SYSTEMS[system]) as running:
            result = run_load(running, spec, quick)
            if not result.get("ok"):
                record["server_log_tail"] = running.log_tail()
            if running.process.poll() is not None:
                result = {**result, "ok": False, "error": "the server died during the run"}
    except Unavailable as exc:
        outcome.unavailable[system] = str(exc)
        result = {"ok": False, "error": f"unavailable: {exc}"}
    record.update(
        ok=bool(result.get("ok")),
        error=result.get("error") or result.get("first_error"),
        seconds=round(time.monotonic() - started_at, 1),
        result=result,
    )
    outcome.runs.append(record)
    state = "ok" if record["ok"] else f"FAILED ({record['error']})"
    print(
        f"  {system:<11} {spec.name:<11} #{repetition}  {record['seconds']:>6.1f} s  {state}",
        file=sys.stderr,
        flush=True,
    )


def run_all(outcome: Outcome, repeat: int, quick: bool) -> None:
    """Interleave systems within each repetition so that machine noise falls on all of them."""
    for repetition in range(1, repeat + 1):
        for spec in outcome.scenarios:
            for system in outcome.systems:
                if system not in outcome.unavailable:
                    run_once(outcome, system, spec, repetition, quick)


def _stop_on_signal(signum: int, _frame: object) -> NoReturn:
    # Turn SIGTERM into SystemExit so that every `finally` stops its child process.
    raise SystemExit(128 + signum)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run, one repetition")
    parser.add_argument("--repeat", type=int, default=None, help="repetitions (default 3)")
    parser.add_argument(
        "--systems",
        nargs="+",
        choices=list(SYSTEMS),
        default=list(SYSTEMS),
        metavar="SYSTEM",
        help=f"systems to run (default: all of {', '.join(SYSTEMS)})",
    )
    parser.add_argument(
        "--scenarios",
        nargs="+",
        choices=list(SCENARIOS),
        default=list(SCENARIOS),
        metavar="SCENARIO",
        help=f"scenarios to run (default: all of {', '.join(SCENARIOS)})",
    )
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where to write JSON")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and write the JSON; exit 1 when a run failed."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    raise_open_files()
    ensure_node_modules()
    outcome = Outcome(
        systems=args.systems, scenarios=[SCENARIOS[s] for s in args.scenarios], quick=args.quick
    )
    for system in args.systems:
        try:
            SYSTEMS[system].check()
        except Unavailable as exc:
            outcome.unavailable[system] = str(exc)
    run_all(outcome, args.repeat, args.quick)
    path = write_json(
        outcome,
        args.results,
        {
            "quick": args.quick,
            "repeat": args.repeat,
            "systems": args.systems,
            "scenarios": args.scenarios,
        },
    )
    print(render(outcome))
    print(f"\nresults: {path}")
    failed = [r for r in outcome.runs if not r["ok"] and r["system"] not in outcome.unavailable]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
