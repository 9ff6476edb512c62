"""Look texts up along the fallback chain and render templates, with everything cached in memory."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from babel import Locale

from kenkogo_master.i18n.catalogs import (
    Catalogs,
    PluralRule,
    plural_key,
    plural_rule_for,
    split_plural_key,
)
from kenkogo_master.i18n.formats import Formatted, Number, ParamError, format_param, whole
from kenkogo_master.i18n.locale import fallback_chain, normalize, parents

# `{{` and `}}` are literal braces; `{name}` is a placeholder; any other brace is literal text.
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Raw locale tags seen from peers are remembered up to this many; beyond it the memo restarts,
# so a peer sending endless made-up tags cannot grow memory.
_TAG_MEMO_LIMIT = 1024


class TemplateError(Exception):
    """A template cannot be rendered; `code` is the wire error code, `params` fill its message."""

    def __init__(self, code: str, params: Mapping[str, object] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.params: dict[str, object] = dict(params or {})


@dataclass(frozen=True)
class Placeholder:
    """A `{name}` in a template text."""

    name: str


Parsed = tuple[str | Placeholder, ...]


def parse_template(text: str) -> Parsed:
    """Split a text into literal runs and placeholders; malformed braces stay literal."""
    parts: list[str | Placeholder] = []
    literal: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        literal.append(text[position : match.start()])
        position = match.end()
        if match.group(1) is None:
            literal.append(match.group(0)[0])
            continue
        if any(literal):
            parts.append("".join(literal))
        literal = []
        parts.append(Placeholder(match.group(1)))
    literal.append(text[position:])
    if any(literal) or not parts:
        parts.append("".join(literal))
    return tuple(parts)


def placeholders(text: str) -> set[str]:
    """Return the names of a text's `{name}` placeholders."""
    return {part.name for part in parse_template(text) if isinstance(part, Placeholder)}


def stray_brace(text: str) -> int | None:
    """Return the offset of the first brace that is neither `{{`, `}}` nor part of `{name}`."""
    position = 0
    for match in _TOKEN.finditer(text):
        found = _first_brace(text, position, match.start())
        if found is not None:
            return found
        position = match.end()
    return _first_brace(text, position, len(text))


def _first_brace(text: str, start: int, end: int) -> int | None:
    """Return the offset of the first `{` or `}` in text[start:end], or None."""
    for offset in range(start, end):
        if text[offset] in "{}":
            return offset
    return None


@dataclass(frozen=True)
class _Candidate:
    """One locale's text for a key: a single text, or plural forms (None where untranslated)."""

    single: Parsed | None
    forms: tuple[Parsed | None, ...] = ()
    rule: PluralRule | None = None

    def pick(self, count: Number) -> Parsed | None:
        """Return the text for a count, or None when this locale lacks that plural form."""
        if self.single is not None or self.rule is None:
            return self.single
        index = whole(count)
        # gettext rules speak of whole counts; a fraction takes the last ("other") form.
        return self.forms[self.rule.index(index) if index is not None else -1]

    def first(self) -> Parsed:
        """Return the single text or the first translated plural form."""
        if self.single is not None:
            return self.single
        return next(form for form in self.forms if form is not None)


def _fill(parsed: Parsed, values: Mapping[str, str], template: str | None) -> str:
    """Join a parsed text with its values; a missing one raises when rendering a template."""
    out: list[str] = []
    for part in parsed:
        if isinstance(part, str):
            out.append(part)
            continue
        value = values.get(part.name)
        if value is None:
            if template is not None:
                raise TemplateError(
                    "template_missing_param", {"template": template, "param": part.name}
                )
            value = "{" + part.name + "}"
        out.append(value)
    return "".join(out)


class Translator:
    """Catalog texts plus operator overrides, looked up per locale and cached until changed."""

    def __init__(self, catalogs: Catalogs, default_locale: str = "en") -> None:
        """Hold the catalogs; the default locale ends every fallback chain."""
        default = normalize(default_locale)
        if default is None:
            raise ValueError(f"default locale {default_locale!r} is not a locale")
        self.default_locale = default
        self._catalogs = catalogs
        self._overrides: dict[str, dict[str, str]] = {}
        self._resolved: dict[str, dict[str, tuple[_Candidate, ...]]] = {}
        self._tags: dict[str, str | None] = {}
        self._added: set[str] = set()
        self._babel: dict[str, Locale] = {}
        self._rules: dict[str, PluralRule] = {}

    # -- locales -----------------------------------------------------------------------------

    def normalize_tag(self, tag: str | None) -> str | None:
        """Return the normalized locale for a peer's tag, or None for none or garbage; memoized."""
        if not tag:
            return None
        try:
            return self._tags[tag]
        except KeyError:
            pass
        if len(self._tags) >= _TAG_MEMO_LIMIT:
            self._tags.clear()
        locale = self._tags[tag] = normalize(tag)
        return locale

    def resolve_locale(self, tag: str | None) -> str:
        """Return the normalized locale for a peer's tag, or the default for none or garbage."""
        return self.normalize_tag(tag) or self.default_locale

    def locales(self) -> list[str]:
        """Return every locale that has a catalog, an override or was added, sorted."""
        return sorted(set(self._catalogs.locales) | set(self._overrides) | self._added)

    def add_locale(self, locale: str) -> str:
        """Offer a locale without a catalog (its texts fall back); return it normalized."""
        normalized = normalize(locale)
        if normalized is None:
            raise ValueError(f"{locale!r} is not a locale")
        self._added.add(normalized)
        return normalized

    def remove_locale(self, locale: str) -> None:
        """Stop offering an added locale and drop its overrides (catalog locales stay)."""
        self._added.discard(locale)
        if self._overrides.pop(locale, None) is not None:
            self._resolved.clear()

    def has_catalog(self, locale: str) -> bool:
        """Return whether a locale has a catalog of its own."""
        return self._catalogs.get(locale) is not None

    def best_locale(self, wanted: Iterable[str]) -> str | None:
        """Return the first normalized locale whose own chain reaches one this translator offers."""
        offered = set(self.locales())
        for locale in wanted:
            if any(step in offered for step in parents(locale)):
                return locale
        return None

    def plural_count(self, locale: str) -> int:
        """Return how many plural forms a locale has."""
        return self._rule(locale).count

    @property
    def catalogs(self) -> Catalogs:
        """Return the catalogs in use."""
        return self._catalogs

    def _babel_locale(self, locale: str) -> Locale:
        """Return a cached babel Locale for a normalized identifier."""
        found = self._babel.get(locale)
        if found is None:
            found = self._babel[locale] = Locale.parse(locale)
        return found

    def _rule(self, locale: str) -> PluralRule:
        """Return a locale's plural rule: its catalog's, or babel's for a locale without one."""
        catalog = self._catalogs.get(locale)
        if catalog is not None:
            return catalog.plural_rule
        rule = self._rules.get(locale)
        if rule is None:
            rule = self._rules[locale] = plural_rule_for(locale)
        return rule

    # -- overrides ---------------------------------------------------------------------------

    def set_override(self, locale: str, key: str, text: str) -> None:
        """Use `text` for `key` in `locale` from now on; `key[i]` overrides one plural form."""
        normalized = normalize(locale)
        if normalized is None:
            raise ValueError(f"{locale!r} is not a locale")
        self._overrides.setdefault(normalized, {})[key] = text
        self._forget(key)

    def clear_override(self, locale: str, key: str) -> None:
        """Go back to the catalog text for `key` in `locale`."""
        normalized = normalize(locale) or locale
        texts = self._overrides.get(normalized)
        if texts is not None and texts.pop(key, None) is not None:
            if not texts:
                del self._overrides[normalized]
            self._forget(key)

    def replace_overrides(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Replace every override with (locale, key, text) rows, e.g. when loaded from SQL."""
        self._overrides.clear()
        for locale, key, text in rows:
            normalized = normalize(locale)
            if normalized is not None:
                self._overrides.setdefault(normalized, {})[key] = text
        self._resolved.clear()

    def replace_catalogs(self, catalogs: Catalogs) -> None:
        """Swap in freshly loaded catalogs."""
        self._catalogs = catalogs
        self._rules.clear()
        self._resolved.clear()

    def _forget(self, flat_key: str) -> None:
        """Drop the cached lookups an override of `flat_key` changes."""
        key, _ = split_plural_key(flat_key)
        self._resolved.pop(key, None)
        self._resolved.pop(flat_key, None)

    # -- lookup ------------------------------------------------------------------------------

    def _candidate(self, locale: str, key: str) -> _Candidate | None:
        """Return what `locale` itself holds for `key`, overrides over catalog texts."""
        catalog = self._catalogs.get(locale)
        overrides = self._overrides.get(locale, {})
        bare = overrides.get(key)
        catalog_forms = catalog.plurals.get(key) if catalog is not None else None
        rule = self._rule(locale)
        indexed = {
            index: overrides[plural_key(key, index)]
            for index in range(rule.count)
            if plural_key(key, index) in overrides
        }
        if catalog_forms is None and not indexed:
            text = bare if bare is not None else catalog.texts.get(key) if catalog else None
            return _Candidate(parse_template(text)) if text is not None else None
        forms = list(catalog_forms or ())[: rule.count]
        forms += [""] * (rule.count - len(forms))
        if bare is not None:
            # A plain override of a plural key stands for every form.
            forms = [bare] * rule.count
        for index, text in indexed.items():
            forms[index] = text
        if not any(forms):
            return None
        parsed = tuple(parse_template(form) if form else None for form in forms)
        return _Candidate(None, parsed, rule)

    def _resolve(self, key: str, locale: str) -> tuple[_Candidate, ...]:
        """Return the candidates for `key` along `locale`'s fallback chain, cached."""
        per_locale = self._resolved.get(key)
        if per_locale is not None:
            found = per_locale.get(locale)
            if found is not None:
                return found
        candidates = tuple(
            candidate
            for step in fallback_chain(locale, self.default_locale)
            if (candidate := self._candidate(step, key)) is not None
        )
        # Unknown keys are not remembered, so made-up template names cannot grow the cache.
        if candidates:
            self._resolved.setdefault(key, {})[locale] = candidates
        return candidates

    @staticmethod
    def _pick(candidates: tuple[_Candidate, ...], count: Number | None) -> Parsed | None:
        """Return the text to use: the first locale's, or for a count the first with its form."""
        if count is None:
            return candidates[0].single
        for candidate in candidates:
            parsed = candidate.pick(count)
            if parsed is not None:
                return parsed
        return candidates[0].first()

    # -- rendering ---------------------------------------------------------------------------

    def text(self, key: str, locale: str | None, /, **params: object) -> str:
        """Return `key`'s text in `locale` with `params` filled in; never raises for bad input.

        The key itself comes back when no locale in the chain has it; a placeholder without a
        value stays as `{name}`; a `count` number (or a {"plural": n} param) picks plural forms.
        """
        resolved = self.resolve_locale(locale)
        candidates = self._resolve(key, resolved)
        if not candidates:
            return key
        formatted = self._format_lenient(params, self._babel_locale(resolved))
        count = next((item.count for item in formatted.values() if item.count is not None), None)
        plain = params.get("count")
        if count is None and isinstance(plain, int | float) and not isinstance(plain, bool):
            count = plain
        parsed = self._pick(candidates, count) or candidates[0].first()
        return _fill(parsed, {name: item.text for name, item in formatted.items()}, None)

    @staticmethod
    def _format_lenient(params: Mapping[str, object], locale: Locale) -> dict[str, Formatted]:
        """Format parameters for a plain text, falling back to str() for what cannot be."""
        formatted: dict[str, Formatted] = {}
        for name, value in params.items():
            try:
                formatted[name] = format_param(value, locale)
            except ParamError:
                formatted[name] = Formatted(str(value))
        return formatted

    def render_template(self, key: str, locale: str | None, params: Mapping[str, object]) -> str:
        """Render template `key` in `locale`, raising TemplateError for what the app got wrong."""
        resolved = self.resolve_locale(locale)
        candidates = self._resolve(key, resolved)
        if not candidates:
            raise TemplateError("unknown_template", {"template": key})
        babel_locale = self._babel_locale(resolved)
        values: dict[str, str] = {}
        count: Number | None = None
        for name, value in params.items():
            try:
                formatted = format_param(value, babel_locale)
            except ParamError as exc:
                raise TemplateError(
                    "invalid_template_param", {"template": key, "param": name, "detail": str(exc)}
                ) from None
            if formatted.count is not None:
                if count is not None:
                    raise TemplateError(
                        "invalid_template_param",
                        {"template": key, "param": name, "detail": "only one plural parameter"},
                    )
                count = formatted.count
            values[name] = formatted.text
        parsed = self._pick(candidates, count)
        if parsed is None:
            # A plural template needs its count as a {"plural": n} parameter.
            raise TemplateError("template_missing_param", {"template": key, "param": "plural"})
        return _fill(parsed, values, key)

    def error_message(
        self, code: str, locale: str | None, params: Mapping[str, object] | None = None
    ) -> str:
        """Return the `message` for wire error `code` in `locale` (the text of `error.<code>`)."""
        return self.text(f"error.{code}", locale, **(params or {}))
