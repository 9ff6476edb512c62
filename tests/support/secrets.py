"""The whole run's secret check: no log record or log file of any test holds a secret it used.

While the tests run, this plugin notes every secret that passes through the Master's secret
handling in this process — configured tokens (create_app), tokens and driver tokens made or
presented, app and OneBot tokens compared, passwords hashed or checked (wrong ones too),
the secrets given to deployments and the app tokens their processes get,
session secrets, their stored ids and CSRF tokens — and the secrets handed to the Masters it
runs as `python main.py` (their KENKOGO_ tokens, what they read on standard input, the
first-start admin-token and admin-password files they write). Every log record made in this
process goes to a file, with the Master's logger at DEBUG and the rest at INFO. A last test,
added to every run, then reads that file and every log folder the run's Masters wrote, and
fails naming each secret it finds. Secrets shorter than the redactor's minimum are left out, and
so are those the Master's own code spells (a test's `driver-token` is also the path
/api/v1/driver-tokens): such strings cannot be told from ordinary text.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from kenkogo_master.observability.redact import MIN_SECRET

_SECRET_ENV = ("TOKEN", "PASSWORD", "SECRET", "DATABASE_URL")
SOURCE = Path(__file__).resolve().parents[2] / "kenkogo_master"


class SecretBook:
    """The secrets the run used, and where its log records went."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.records: Path | None = None
        self.basetemp: Path | None = None
        self._undo: list[Callable[[], None]] = []

    def add(self, *values: object) -> None:
        """Note secrets (anything not a long enough string is ignored)."""
        for value in values:
            if isinstance(value, str) and len(value) >= MIN_SECRET:
                self.secrets.add(value)

    def add_environ(self, environ: Mapping[str, str] | None) -> None:
        """Note the secrets among a child Master's KENKOGO_ settings."""
        for key, value in (environ or {}).items():
            if key.startswith("KENKOGO_") and any(part in key for part in _SECRET_ENV):
                if value.startswith("["):
                    self.add(*(item.strip(' "') for item in value.strip("[]").split(",")))
                else:
                    self.add(value)

    def patch(self, owner: Any, name: str, wrapper: Callable[[Any], Any]) -> None:
        """Replace owner.name with wrapper(original) until the run ends."""
        original = getattr(owner, name)
        setattr(owner, name, functools.wraps(original)(wrapper(original)))
        self._undo.append(lambda: setattr(owner, name, original))

    def patch_everywhere(self, function: Any, wrapper: Callable[[Any], Any]) -> None:
        """Replace a module-level function in every loaded module of the Master that holds it."""
        replacement = functools.wraps(function)(wrapper(function))
        for module in list(sys.modules.values()):
            if not getattr(module, "__name__", "").startswith(("kenkogo_master", "tests")):
                continue
            for attribute, value in list(vars(module).items()):
                if value is function:
                    setattr(module, attribute, replacement)
                    self._undo.append(functools.partial(setattr, module, attribute, function))

    def undo(self) -> None:
        """Put every patched function back."""
        while self._undo:
            self._undo.pop()()

    def log_files(self) -> Iterator[Path]:
        """Yield the record file and every file in a log folder the run's Masters wrote."""
        if self.records is not None:
            yield self.records
        if self.basetemp is not None:
            for folder in self.basetemp.rglob("logs"):
                if folder.is_dir():
                    # Deployed apps' output too (logs/apps/<deployment>/output.log).
                    yield from (path for path in folder.rglob("*") if path.is_file())

    def first_start_secrets(self) -> Iterator[str]:
        """Yield the admin tokens and passwords Masters generated and kept in files."""
        if self.basetemp is None:
            return
        for name in ("admin-token", "admin-password"):
            for path in self.basetemp.rglob(name):
                yield path.read_text(encoding="utf-8").strip()

    def findings(self) -> list[str]:
        """Return one line per secret found in a log, with where it was."""
        self.add(*self.first_start_secrets())
        # A test's weak secret that the Master's own code spells (`driver-token` is in the path
        # /api/v1/driver-tokens) may be logged as that text by another test: not a leak.
        source = "\n".join(path.read_text(encoding="utf-8") for path in SOURCE.rglob("*.py"))
        searched = sorted(secret for secret in self.secrets if secret not in source)
        found: list[str] = []
        for path in self.log_files():
            text = path.read_text(encoding="utf-8", errors="replace")
            for secret in searched:
                at = text.find(secret)
                if at >= 0:
                    line = text.count("\n", 0, at) + 1
                    shown = f"{secret[:3]}…({len(secret)} characters)"
                    found.append(f"{shown} in {path}:{line}: {_line_at(text, at)[:300]}")
        return found


def _line_at(text: str, at: int) -> str:
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return text[start : end if end >= 0 else len(text)]


BOOK = SecretBook()


class _RecordFile(logging.Handler):
    """Write every record of this process, as a handler of the Master would see it."""

    def __init__(self, path: Path) -> None:
        super().__init__(logging.NOTSET)
        self._file = path.open("a", encoding="utf-8")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = f"{record.levelname} {record.name}: {record.getMessage()}"
            extra = record.exc_text or (
                logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
            )
            self._file.write(f"{text}\n{extra}\n" if extra else f"{text}\n")
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()
        super().close()


def _noting(result_secrets: Callable[..., Iterable[object]]) -> Callable[[Any], Any]:
    """Wrap a function so that the secrets `result_secrets(args, kwargs, result)` are noted."""

    def wrapper(original: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            BOOK.add(*result_secrets(args, kwargs, result))
            return result

        return call

    return wrapper


def _noting_async(result_secrets: Callable[..., Iterable[object]]) -> Callable[[Any], Any]:
    """The same for a coroutine function."""

    def wrapper(original: Any) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            result = await original(*args, **kwargs)
            BOOK.add(*result_secrets(args, kwargs, result))
            return result

        return call

    return wrapper


def _install_watchers() -> None:
    """Wrap the Master's secret handling, before the test modules import any of it."""
    from kenkogo_master import app as app_module
    from kenkogo_master.admin import csrf, passwords, sessions
    from kenkogo_master.deploy import app_tokens, supervisor
    from kenkogo_master.observability.contexts import configured_secrets
    from kenkogo_master.store import driver_tokens, tokens
    from kenkogo_master.transport import sio_apps
    from tests.support import process

    BOOK.patch_everywhere(
        app_module.create_app,
        _noting(lambda args, kwargs, result: configured_secrets(args[0])),
    )
    BOOK.patch(tokens.TokenStore, "create", _noting_async(lambda a, k, r: [r[1]]))
    BOOK.patch(tokens.TokenStore, "check", _noting(lambda a, k, r: a[1:2]))
    BOOK.patch(driver_tokens.DriverTokenStore, "create", _noting_async(lambda a, k, r: [r[1]]))
    BOOK.patch(driver_tokens.DriverTokenStore, "check", _noting(lambda a, k, r: a[1:2]))
    BOOK.patch(passwords.Passwords, "hash", _noting_async(lambda a, k, r: a[1:2]))
    BOOK.patch(passwords.Passwords, "verify", _noting_async(lambda a, k, r: a[2:3]))
    BOOK.patch(sessions.Sessions, "start", _noting_async(lambda a, k, r: [r[1], r[0].id]))
    BOOK.patch(sessions.Sessions, "check", _noting_async(lambda a, k, r: a[1:2]))
    BOOK.patch_everywhere(csrf.csrf_token, _noting(lambda a, k, r: [r, a[0]]))
    BOOK.patch_everywhere(sio_apps.token_accepted, _noting(lambda a, k, r: [a[0], *a[1]]))
    # Deployments: the token each started process gets, and the secrets given over REST.
    BOOK.patch(app_tokens.AppTokens, "issue", _noting(lambda a, k, r: [r]))
    BOOK.patch(supervisor.Supervisor, "create", _noting_async(lambda a, k, r: [*a[4].values()]))
    BOOK.patch(
        supervisor.Supervisor, "update", _noting_async(lambda a, k, r: [*(a[3] or {}).values()])
    )

    def run_main(original: Any) -> Any:
        async def call(args: Any, environ: Any = None, *rest: Any, **kwargs: Any) -> Any:
            BOOK.add_environ(environ)
            stdin = kwargs.get("stdin", rest[2] if len(rest) > 2 else None)
            if isinstance(stdin, bytes):
                BOOK.add(*stdin.decode(errors="replace").splitlines())
            return await original(args, environ, *rest, **kwargs)

        return call

    def spawn_master(original: Any) -> Any:
        async def call(environ: Any, *args: Any, **kwargs: Any) -> Any:
            BOOK.add_environ(environ)
            return await original(environ, *args, **kwargs)

        return call

    BOOK.patch(process, "run_main", run_main)
    BOOK.patch(process, "spawn_master", spawn_master)


class _CheckFile(pytest.File):
    """This file, as the collector the check belongs to (it names the check in reports)."""

    def collect(self) -> Iterable[pytest.Item]:
        """Collect nothing by itself: the check is added after everything else."""
        return []


class SecretsCheck(pytest.Item):
    """The run's last test: greps every log record and log file for every secret used."""

    def runtest(self) -> None:
        """Fail with each secret found and where."""
        for handler in logging.getLogger().handlers:
            handler.flush()
        found = BOOK.findings()
        self.user_properties.append(("secrets", len(BOOK.secrets)))
        assert not found, "secrets in the logs:\n" + "\n".join(found)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Name the check in reports."""
        return self.path, None, "no log record or log file of the run holds a secret it used"


_HANDLER: list[_RecordFile] = []
_LEVELS: list[tuple[logging.Logger, int]] = []


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add the check after every other test of the run."""
    if items:
        parent = _CheckFile.from_parent(session, path=Path(__file__))
        items.append(SecretsCheck.from_parent(parent, name="test_no_secret_in_any_log"))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Start noting secrets and writing every record of this process to a file."""
    factory = session.config._tmp_path_factory  # type: ignore[attr-defined]
    BOOK.basetemp = factory.getbasetemp()
    BOOK.records = BOOK.basetemp / "log-records.txt"
    handler = _RecordFile(BOOK.records)
    root = logging.getLogger()
    root.addHandler(handler)
    _HANDLER.append(handler)
    master = logging.getLogger("kenkogo_master")
    _LEVELS.extend([(root, root.level), (master, master.level)])
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)
    master.setLevel(logging.DEBUG)
    _install_watchers()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Put everything back."""
    BOOK.undo()
    for logger, level in _LEVELS:
        logger.setLevel(level)
    for handler in _HANDLER:
        logging.getLogger().removeHandler(handler)
        handler.close()
