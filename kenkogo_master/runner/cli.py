"""`python main.py runner` and `python -m kenkogo_master.runner`: run a runner agent."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from kenkogo_master.runner.agent import (
    DEFAULT_SPREAD,
    ExecutorFactory,
    RunnerAgent,
    package_executor,
)

log = logging.getLogger("kenkogo_master.runner")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Describe the runner's options."""
    parser.add_argument("--master", required=True, help="the Master's URL, e.g. http://host:17680")
    parser.add_argument(
        "--token",
        default=None,
        help="a one-time enrolment token (POST /api/v1/runner-enrolments); needed only until "
        "the runner has its credential in --data",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=Path("runner-data"),
        help="where the runner keeps its credential, command journal, packages and app state "
        "(default: ./runner-data)",
    )
    parser.add_argument("--name", default=None, help="the runner's name (default: the host name)")
    parser.add_argument(
        "--labels", default="", help="comma-separated labels deployments can be placed by"
    )
    parser.add_argument(
        "--capacity", type=int, default=None, help="apps it may host (default: CPU count)"
    )
    parser.add_argument(
        "--spread",
        type=float,
        default=DEFAULT_SPREAD,
        help="seconds over which the first redial after a lost connection is drawn at random "
        f"(default: {DEFAULT_SPREAD})",
    )
    parser.add_argument(
        "--executor",
        default=None,
        metavar="MODULE:FACTORY",
        help="another executor (a callable taking the runner's context); the default fetches "
        "package revisions from the Master and runs them",
    )


def _factory(spec: str | None) -> ExecutorFactory:
    if spec is None:
        return package_executor
    module, _, name = spec.partition(":")
    factory: ExecutorFactory = getattr(importlib.import_module(module), name)
    return factory


async def _serve(args: argparse.Namespace) -> int:
    labels = [label.strip() for label in args.labels.split(",") if label.strip()]
    factory = _factory(args.executor)
    agent = RunnerAgent(
        args.master,
        args.token,
        args.data,
        name=args.name,
        labels=labels,
        capacity=args.capacity,
        spread=args.spread,
        factory=factory,
    )
    if agent.identity.credential is None and not args.token:
        log.error("runner: give --token (an enrolment token) for the first start")
        return 2
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, agent.stop)
    await agent.run()
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the agent until SIGTERM or SIGINT; its apps stop with it."""
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    return asyncio.run(_serve(args))


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(
        prog="python -m kenkogo_master.runner", description="A KenkoGo runner agent."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
