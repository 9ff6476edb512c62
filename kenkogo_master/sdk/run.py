"""Run an app: `python -m kenkogo_master.sdk.run module:app [--url URL]... [--token TOKEN]`."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from kenkogo_master.sdk import deployed
from kenkogo_master.sdk.app import App, check_urls
from kenkogo_master.sdk.models import MasterError

USAGE_ERROR = 2  # as argparse exits on a bad command line
REFUSED = 1


class LoadError(Exception):
    """The app named on the command line cannot be found."""


def load_app(spec: str) -> App:
    """Import `module:attribute` (from the current directory too) and return the App there."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise LoadError(f"{spec!r}: expected module:attribute, e.g. examples.echo:app")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # `python -m` does not add it when run from elsewhere
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LoadError(f"cannot import {module_name}: {exc}") from None
    try:
        app = getattr(module, attribute)
    except AttributeError:
        raise LoadError(f"{module_name} has no attribute {attribute!r}") from None
    if not isinstance(app, App):
        raise LoadError(f"{spec} is a {type(app).__name__}, not a kenkogo_master.sdk.App")
    return app


def parser() -> argparse.ArgumentParser:
    """Return the command line parser."""
    parse = argparse.ArgumentParser(
        prog="python -m kenkogo_master.sdk.run",
        description="Run a KenkoGo app until SIGINT or SIGTERM.",
    )
    parse.add_argument("app", help="where the App is, as module:attribute (examples.echo:app)")
    parse.add_argument(
        "--url",
        action="append",
        help="the Master's URL, instead of the app's own; repeat to give fallbacks in order",
    )
    parse.add_argument("--token", help="the app token, instead of the app's own")
    parse.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING… (INFO)")
    return parse


def main(argv: Sequence[str] | None = None) -> int:
    """Load, configure and run an app; return the exit code."""
    args = parser().parse_args(argv)
    level = logging.getLevelName(args.log_level.upper())
    if not isinstance(level, int):
        print(f"error: --log-level {args.log_level!r} is not a level", file=sys.stderr)
        return USAGE_ERROR
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = load_app(args.app)
        deployed.adopt(app)  # the supervisor's URL and token; flags given here win over them
        app.adopted = True
        if args.url:
            app.urls = check_urls(None, args.url)
        if args.token is not None:
            app.token = args.token
    except (LoadError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    try:
        app.run()
    except MasterError as exc:
        print(f"error: the Master refused {app.name}: {exc}", file=sys.stderr)
        return REFUSED
    except KeyboardInterrupt:  # where signals cannot be caught by the loop (Windows)
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
