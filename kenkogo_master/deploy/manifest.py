"""A package's `kenkogo.toml`: parsed, checked field by field, and turned into a LaunchSpec."""

from __future__ import annotations

import shlex
import shutil
import sys
import tomllib
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from kenkogo_master import __version__
from kenkogo_master.deploy import spec
from kenkogo_master.errors import ErrorCode, HubError

MANIFEST = "kenkogo.toml"
MAX_MANIFEST = 64 * 1024  # a manifest is a few lines; more is not one
SDK_RUN = "kenkogo_master.sdk.run"
# What a runtime installs from when the manifest names no dependency file.
DEFAULT_DEPENDENCIES = {"python": "requirements.txt", "node": "package.json"}

AppId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Text = Annotated[str, StringConstraints(max_length=1000)]
Seconds = Annotated[float, Field(ge=0, le=86_400)]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]


class _Table(BaseModel):
    """A table of the manifest: unknown keys are typos, so they are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Runtime(_Table):
    """`[runtime]`: what runs the app, and what it needs installed."""

    type: Literal["python", "node", "command"]
    # `module:attr` (an SDK App), a script path inside the package, or an argv list.
    entry: (
        Annotated[str, StringConstraints(min_length=1, max_length=1000)]
        | Annotated[
            list[Annotated[str, StringConstraints(min_length=1, max_length=1000)]],
            Field(min_length=1, max_length=100),
        ]
    )
    # requirements.txt or pyproject.toml (python), package.json with its lock (node).
    dependencies: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None


class Restart(_Table):
    """`[restart]`: the supervisor's restart policy."""

    when: Literal["always", "on-failure", "never"] = "on-failure"
    backoff_initial: Annotated[float, Field(gt=0, le=3600)] = 1.0
    backoff_max: Annotated[float, Field(gt=0, le=86_400)] = 30.0
    jitter: Annotated[float, Field(ge=0, le=1)] = 0.2
    reset_after: Seconds = 30.0
    fatal_after: Annotated[int, Field(ge=1, le=1000)] = 5


class Stop(_Table):
    """`[stop]`: how the app is asked to stop before it is killed."""

    signal: Literal["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP"] = "SIGTERM"
    timeout: Annotated[float, Field(gt=0, le=3600)] = 10.0


class Ready(_Table):
    """`[ready]`: when a started app counts as running."""

    when: Literal["registered", "seconds"] = "seconds"
    seconds: Annotated[float, Field(gt=0, le=3600)] = 1.0


class Limits(_Table):
    """`[limits]`: resource limits where the platform allows."""

    memory_mb: Annotated[int, Field(ge=1, le=1024 * 1024)] | None = None
    cpu_percent: Annotated[float, Field(gt=0, le=100_000)] | None = None


class Manifest(_Table):
    """A package's manifest, as `kenkogo.toml` says it."""

    id: AppId
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    description: Text = ""
    author: Text = ""
    # PEP 440 specifiers of the Master versions the app works with, e.g. ">=0.1,<1".
    master: Annotated[str, StringConstraints(max_length=200)] = ""
    runtime: Runtime
    env: Annotated[dict[EnvName, Text], Field(max_length=200)] = {}
    restart: Restart = Restart()
    stop: Stop = Stop()
    ready: Ready = Ready()
    limits: Limits = Limits()

    def dependency_file(self) -> str | None:
        """Return the dependency file named (or the runtime's usual one), relative to the app."""
        return self.runtime.dependencies or DEFAULT_DEPENDENCIES.get(self.runtime.type)

    def check_master(self, version: str = __version__) -> None:
        """Refuse a package whose `master` range leaves this Master out."""
        if not self.master:
            return
        if not SpecifierSet(self.master).contains(Version(version), prereleases=True):
            raise HubError(
                ErrorCode.MASTER_VERSION_MISMATCH, id=self.id, wanted=self.master, version=version
            )

    def argv(self, app_dir: Path, env_dir: Path) -> tuple[str, ...]:
        """Return the command that starts the app, the executable absolute."""
        python = str(venv_python(env_dir))
        entry = self.runtime.entry
        kind = self.runtime.type
        if isinstance(entry, list):
            argv = list(entry)
        elif kind == "python" and _is_attribute(entry):
            return (python, "-m", SDK_RUN, entry)
        elif kind == "command":
            argv = shlex.split(entry)
        else:
            argv = [kind, entry]
        head = argv[0]
        if head in {"python", "python3"} and kind == "python":
            argv[0] = python
        elif head == "node":
            argv[0] = shutil.which("node") or "node"
        elif "/" in head:  # a program inside the package
            argv[0] = str(app_dir / head)
        else:
            argv[0] = shutil.which(head) or head
        if kind == "python" and argv[0] == python and len(argv) > 1 and argv[1].endswith(".py"):
            argv[1] = str(app_dir / argv[1])
        if kind == "node" and len(argv) > 1 and argv[1].endswith((".js", ".mjs", ".cjs")):
            argv[1] = str(app_dir / argv[1])
        return tuple(argv)

    def launch_spec(self, revision: str, app_dir: Path, env_dir: Path) -> spec.LaunchSpec:
        """Return what the supervisor needs to start this revision, installed at `app_dir`."""
        return spec.LaunchSpec(
            app_id=self.id,
            revision=revision,
            argv=self.argv(app_dir, env_dir),
            cwd=app_dir,
            env=dict(self.env),
            runtime=self.runtime.type,
            restart=spec.RestartPolicy(**self.restart.model_dump()),
            stop=spec.StopPolicy(**self.stop.model_dump()),
            ready=spec.ReadyPolicy(**self.ready.model_dump()),
            limits=spec.Limits(**self.limits.model_dump()),
        )


def venv_python(env_dir: Path) -> Path:
    """Return the interpreter of a virtual environment."""
    if sys.platform == "win32":
        return env_dir / "Scripts" / "python.exe"
    return env_dir / "bin" / "python"


def _is_attribute(entry: str) -> bool:
    """Tell `module:attr` from a script path (`app.py`) or a command line."""
    module, colon, attribute = entry.partition(":")
    names = module.split(".")
    return bool(colon) and all(n.isidentifier() for n in names) and attribute.isidentifier()


def _relative(value: str, field: str) -> None:
    """Refuse a path that would leave the package's folder."""
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or "\\" in value or "\0" in value:
        detail = f"{value!r} must be a path inside the package"
        raise HubError(ErrorCode.INVALID_MANIFEST, field=field, detail=detail)


def _check_entry(runtime: Runtime) -> None:
    """Refuse an entry its runtime cannot start."""
    entry = runtime.entry
    if runtime.type == "python" and isinstance(entry, str) and ":" in entry:
        if not _is_attribute(entry):
            detail = f"{entry!r} is not module:attribute (e.g. echo:app) nor a script path"
            raise HubError(ErrorCode.INVALID_MANIFEST, field="runtime.entry", detail=detail)
        return
    if isinstance(entry, str) and runtime.type != "command":
        _relative(entry, "runtime.entry")
    if isinstance(entry, str) and runtime.type == "command":
        try:
            if not shlex.split(entry):
                raise ValueError("no command")
        except ValueError as exc:
            raise HubError(
                ErrorCode.INVALID_MANIFEST, field="runtime.entry", detail=str(exc)
            ) from None
    if runtime.dependencies is not None:
        _relative(runtime.dependencies, "runtime.dependencies")


def _field(data: Any, location: tuple[int | str, ...]) -> str:
    """Return a validation error's place as the manifest writes it: `runtime.entry`.

    Only the keys the manifest really has are kept: pydantic adds the names of union members.
    """
    parts: list[str] = []
    for part in location:
        key = isinstance(data, dict) and part in data
        index = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not key and not index:
            if isinstance(data, dict) and not _union_member(part):
                parts.append(str(part))  # a key that is missing, or not a manifest key
            break
        data = data[part]
        parts.append(str(part))
    return ".".join(parts) or MANIFEST


def _union_member(part: int | str) -> bool:
    """Tell whether a location's part is a union member's name rather than a key."""
    return isinstance(part, str) and ("[" in part or part.startswith(_UNION_TAGS))


_UNION_TAGS = ("constrained-", "function-", "list", "str", "int", "float", "dict", "tagged-")
ENTRY_DETAIL = "must be module:attribute, a script path, or a non-empty list of arguments"


def parse(data: dict[str, Any]) -> Manifest:
    """Validate a manifest's tables; every refusal names the field."""
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _field(data, tuple(first["loc"]))
        detail = first["msg"]
        if field == "runtime.entry":
            detail = ENTRY_DETAIL
        elif first["type"] == "missing":
            detail = "is required"
        elif first["type"] == "extra_forbidden":
            detail = "is not a manifest key"
        raise HubError(ErrorCode.INVALID_MANIFEST, field=field, detail=detail) from None
    if manifest.master:
        try:
            SpecifierSet(manifest.master)
        except InvalidSpecifier:
            detail = f"{manifest.master!r} is not a PEP 440 version range such as >=0.1,<1"
            raise HubError(ErrorCode.INVALID_MANIFEST, field="master", detail=detail) from None
    _check_entry(manifest.runtime)
    return manifest


def loads(text: bytes) -> Manifest:
    """Parse a manifest's bytes (UTF-8 TOML)."""
    if len(text) > MAX_MANIFEST:
        detail = f"is larger than {MAX_MANIFEST} bytes"
        raise HubError(ErrorCode.INVALID_MANIFEST, field=MANIFEST, detail=detail)
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise HubError(ErrorCode.INVALID_MANIFEST, field=MANIFEST, detail=str(exc)) from None
    return parse(data)


def load(folder: Path) -> Manifest:
    """Read the manifest at the root of an unpacked package."""
    path = folder / MANIFEST
    if path.is_symlink() or not path.is_file():
        detail = "is missing at the package's root"
        raise HubError(ErrorCode.INVALID_MANIFEST, field=MANIFEST, detail=detail)
    with path.open("rb") as file:
        return loads(file.read(MAX_MANIFEST + 1))
