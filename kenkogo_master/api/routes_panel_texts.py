"""The panel's own texts in one answer per locale: the catalogs' `panel.*` keys, overrides applied.

The sign-in page needs its texts before anyone is signed in, so a second, public path answers
just those (and the names of the offered locales, for the language menu).
"""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kenkogo_master.api.answers import answers
from kenkogo_master.api.errors import request_locale
from kenkogo_master.api.json import query_model
from kenkogo_master.api.openapi_shapes import LocaleInfo, PanelTexts
from kenkogo_master.i18n.locale import fallback_chain
from kenkogo_master.i18n.service import I18n
from kenkogo_master.i18n.validate import check_locale
from kenkogo_master.keys import I18N

routes = web.RouteTableDef()

PANEL_PREFIX = "panel."
# What the sign-in page shows: its own texts and the frame around it (language, theme).
SIGN_IN_PREFIXES = ("panel.login.", "panel.shell.")
PANEL_TEXTS_PATH = "/api/v1/i18n/panel"
SIGN_IN_TEXTS_PATH = "/api/v1/i18n/panel/login"


class PanelTextsQuery(BaseModel):
    """Query of GET /api/v1/i18n/panel and /api/v1/i18n/panel/login."""

    model_config = ConfigDict(extra="forbid")

    # The operator's choice; without it the Accept-Language header decides.
    locale: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=1, max_length=35),
            Field(json_schema_extra={"pattern": r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$"}),
        ]
        | None
    ) = None


def _locale(request: web.Request, i18n: I18n, asked: str | None) -> str:
    """Return the offered locale that best fits the choice, else the browser's, else the default."""
    translator = i18n.translator
    if asked is not None:
        best = translator.best_locale([check_locale(asked)])
    else:
        best = request_locale(request)
    # `zh_Hans_CN` is served by `zh_Hans`: name the offered one, as the language menu does.
    offered = set(translator.locales())
    chain = fallback_chain(best, translator.default_locale)
    return next((step for step in chain if step in offered), translator.default_locale)


def _answer(request: web.Request, prefixes: tuple[str, ...]) -> PanelTexts:
    query = query_model(request, PanelTextsQuery)
    i18n = request.app[I18N]
    locale = _locale(request, i18n, query.locale)
    body = PanelTexts(
        locale=locale,
        default_locale=i18n.translator.default_locale,
        locales=[
            {"locale": info.locale, "name": info.name}
            for info in (LocaleInfo.of(view, locale) for view in i18n.texts.locale_views())
        ],
        texts=i18n.texts.texts_under(locale, prefixes),
    )
    return body


@routes.get(PANEL_TEXTS_PATH)
@answers(PanelTexts)
async def panel_texts(request: web.Request) -> PanelTexts:
    """Return every text of the admin panel in one locale, operators' overrides applied."""
    return _answer(request, (PANEL_PREFIX,))


@routes.get(SIGN_IN_TEXTS_PATH)
@answers(PanelTexts)
async def panel_sign_in_texts(request: web.Request) -> PanelTexts:
    """Return the texts of the panel's sign-in page (no token needed)."""
    return _answer(request, SIGN_IN_PREFIXES)
