"""The effective configuration, and the keys an operator may change while the Master runs.

Every part holds the one Settings object (or one of its sections) and reads what it needs when
it needs it. A change is validated as a whole configuration by pydantic, kept in SQL, then
written into the live section objects, so that those parts see it at their next read; parts
that copied a value when they started follow through a listener (app.py wires them). The
retentions are kept by store/retention.py, the one store behind PUT /api/v1/db/retention too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from pydantic import ValidationError

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.ids import now_ms
from kenkogo_master.settings import (
    RUNTIME_KEYS,
    SECRET_KEYS,
    URL_KEYS,
    Section,
    Settings,
    Source,
    describe_error,
    setting_keys,
)
from kenkogo_master.store.retention import POLICIES, Retention
from kenkogo_master.store.settings_overrides import SettingOverrides, StoredOverride

log = logging.getLogger(__name__)

MASK = "********"
_SECRET_QUERY_WORDS = ("password", "secret", "token", "key")
# The retention each retention key sets, by its configuration key.
RETENTION_KEYS: Mapping[str, str] = {policy.setting: policy.name for policy in POLICIES}

Listener = Callable[[Any], None]


def mask_url(text: str) -> str:
    """Return a URL with its password and secret-looking query values hidden."""
    try:
        parts = urlsplit(text)
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return MASK
    userinfo, at, host = parts.netloc.rpartition("@")
    netloc = parts.netloc
    if at and ":" in userinfo:
        netloc = f"{userinfo.partition(':')[0]}:{MASK}@{host}"
    secret = [any(word in name.lower() for word in _SECRET_QUERY_WORDS) for name, _ in query]
    if netloc == parts.netloc and not any(secret):
        return text
    hidden = [
        (name, MASK if hide else value) for (name, value), hide in zip(query, secret, strict=True)
    ]
    # Put together by hand: urlunsplit drops the empty authority of sqlite:////path.
    authority = f"//{netloc}" if text.startswith(f"{parts.scheme}://") else netloc
    masked_url = f"{parts.scheme}:{authority}{parts.path}"
    if parts.query:
        masked_url += "?" + urlencode(hidden, safe="*")
    if parts.fragment:
        masked_url += "#" + parts.fragment
    return masked_url


def masked(key: str, value: Any) -> Any:
    """Return a value as it may be shown: secrets only say whether (and how many) are set."""
    if key in SECRET_KEYS:
        if isinstance(value, list):
            return [MASK] * len(value)
        return None if value is None else MASK
    if key in URL_KEYS and isinstance(value, str):
        return mask_url(value)
    return value


@dataclass(frozen=True, slots=True)
class Key:
    """One setting: where it lives and whether it may change at run time."""

    section: str
    name: str

    @property
    def key(self) -> str:
        """Return `section.name`."""
        return f"{self.section}.{self.name}"

    @property
    def runtime(self) -> bool:
        """Tell whether the key may change while the Master runs."""
        return self.key in RUNTIME_KEYS or self.key in RETENTION_KEYS

    @property
    def retention(self) -> str | None:
        """Return the retention (of /api/v1/db/retention) the key sets, if it sets one."""
        return RETENTION_KEYS.get(self.key)


KEYS: Mapping[str, Key] = {
    f"{section}.{name}": Key(section, name) for section, name in setting_keys()
}


@dataclass(frozen=True, slots=True)
class Change:
    """One key changed: what it was and what it is now (None: back to the configuration)."""

    key: str
    before: Any
    after: Any
    reset: bool

    def describe(self) -> dict[str, Any]:
        """Return the change as the audit trail keeps it, secrets masked."""
        return {
            "key": self.key,
            "before": masked(self.key, self.before),
            "after": masked(self.key, self.after),
            "reset": self.reset,
        }


def _section(settings: Settings, name: str) -> Section:
    section = getattr(settings, name)
    assert isinstance(section, Section)
    return section


def _value(settings: Settings, key: Key) -> Any:
    return getattr(_section(settings, key.section), key.name)


def _json(value: Any) -> Any:
    """Return a value as JSON would carry it (paths as strings)."""
    return (
        value if value is None or isinstance(value, bool | int | float | str | list) else str(value)
    )


class RuntimeSettings:
    """Describe the configuration in effect; change, keep and apply the run-time keys."""

    def __init__(self, settings: Settings, store: SettingOverrides) -> None:
        self.settings = settings
        # What file, environment and defaults say: where a removed override goes back to.
        self._configured = settings.model_copy(deep=True)
        self._defaults = Settings()
        self._store = store
        self._overrides: dict[str, int] = {}  # key -> when it was set (ms)
        self._listeners: dict[str, list[Listener]] = {}
        self._retention: Retention | None = None
        # One change at a time: each is checked against the values the one before left.
        self._changing = asyncio.Lock()

    async def load(self) -> None:
        """Apply the stored overrides; one that no longer validates is logged and left out."""
        for key, stored in (await self._store.load()).items():
            known = KEYS.get(key)
            if known is None or not known.runtime or known.retention is not None:
                log.warning("stored setting %s is ignored: it cannot change at run time", key)
                continue
            try:
                candidate = self._candidate({key: stored.value})
            except HubError as exc:
                log.warning("stored setting %s is ignored: %s", key, exc.params.get("detail"))
                continue
            self._apply(known, _value(candidate, known), stored)

    def follow_retention(self, retention: Retention) -> None:
        """Show and change the retention keys through the retentions' own store."""
        self._retention = retention

    def listen(self, key: str, listener: Listener) -> None:
        """Call `listener(value)` whenever `key` changes (also when it goes back)."""
        assert key in RUNTIME_KEYS, key
        self._listeners.setdefault(key, []).append(listener)

    def describe(self) -> list[dict[str, Any]]:
        """Return every key with its value, source and whether it may change, secrets masked."""
        items = []
        for key in KEYS.values():
            value, configured = _value(self.settings, key), _value(self._configured, key)
            configured_source = self._configured.source(key.key)
            updated_ms = self._overrides.get(key.key)
            policy = key.retention
            if policy is not None and self._retention is not None:
                value = self._retention.days(policy)
                updated_ms = self._retention.updated_ms(policy)
            items.append(
                {
                    "key": key.key,
                    "section": key.section,
                    "name": key.name,
                    "value": _json(masked(key.key, value)),
                    "source": Source.RUNTIME if updated_ms is not None else configured_source,
                    "configured": _json(masked(key.key, configured)),
                    "configured_source": configured_source,
                    "default": _json(masked(key.key, _value(self._defaults, key))),
                    "runtime": key.runtime,
                    "secret": key.key in SECRET_KEYS,
                    "retention": policy,
                    "updated_ms": updated_ms,
                }
            )
        return items

    def check(self, changes: Mapping[str, Any]) -> Settings:
        """Refuse unknown and restart-only keys and bad values; return the settings they make."""
        for name in changes:
            key = KEYS.get(name)
            if key is None:
                raise HubError(ErrorCode.UNKNOWN_SETTING, key=name)
            if not key.runtime:
                raise HubError(ErrorCode.RESTART_REQUIRED, key=name)
        return self._candidate(changes)

    async def update(self, changes: Mapping[str, Any]) -> list[Change]:
        """Set (a value) or remove (None) run-time values; each is kept in SQL, then applied."""
        async with self._changing:
            return await self._update(changes)

    async def _update(self, changes: Mapping[str, Any]) -> list[Change]:
        candidate = self.check(changes)
        done: list[Change] = []
        for name, value in changes.items():
            key = KEYS[name]
            before = _value(self.settings, key)
            after = _value(candidate, key)
            if key.retention is not None:
                done.append(await self._update_retention(key, None if value is None else after))
                continue
            if value is None:
                await self._store.remove(name)
                self._apply(key, after, None)
            else:
                stored = StoredOverride(_json(after), now_ms())
                await self._store.save(name, stored.value, stored.updated_ms)
                self._apply(key, after, stored)
            done.append(Change(name, _json(before), _json(after), value is None))
        return done

    async def _update_retention(self, key: Key, days: float | None) -> Change:
        retention = self._retention
        assert retention is not None and key.retention is not None
        before = retention.days(key.retention)
        await retention.update({key.retention: days})
        return Change(key.key, before, retention.days(key.retention), days is None)

    def _candidate(self, changes: Mapping[str, Any]) -> Settings:
        """Validate the configuration in effect with `changes`, as the config file is."""
        data = self.settings.model_dump()
        for name, value in changes.items():
            key = KEYS[name]
            data[key.section][key.name] = _value(self._configured, key) if value is None else value
        try:
            return Settings.model_validate(data)
        except ValidationError as exc:
            raise HubError(ErrorCode.INVALID_PAYLOAD, detail=describe_error(exc)) from None

    def _apply(self, key: Key, value: Any, stored: StoredOverride | None) -> None:
        """Write a validated value into the live section and tell who follows it."""
        setattr(_section(self.settings, key.section), key.name, value)
        if stored is None:
            self._overrides.pop(key.key, None)
        else:
            self._overrides[key.key] = stored.updated_ms
        for listener in self._listeners.get(key.key, ()):
            listener(value)
