"""REST resources for translation: texts and overrides, offered locales, chat locales."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kenkogo_master.api import openapi_shapes as shapes
from kenkogo_master.api.answers import Reply, answers
from kenkogo_master.api.errors import request_locale
from kenkogo_master.api.json import body_model, query_model
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.i18n.validate import KEY_MAX, KEY_PATTERN, TEXT_MAX
from kenkogo_master.keys import I18N

routes = web.RouteTableDef()

# The patterns are for the OpenAPI document; the checks behind them say what exactly is wrong.
LocaleTag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=35),
    Field(json_schema_extra={"pattern": r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$"}),
]


class TextQuery(BaseModel):
    """Filters and page of GET /api/v1/i18n/texts."""

    model_config = ConfigDict(extra="forbid")

    locale: LocaleTag | None = None
    q: Annotated[str, StringConstraints(max_length=200)] | None = None
    offset: int = Field(0, ge=0, le=1_000_000_000)  # echoed in the answer: JSON needs 64 bits
    limit: int = Field(100, ge=1, le=500)


class TextBody(BaseModel):
    """Body of PUT /api/v1/i18n/texts/{locale}/{key}."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(min_length=1, max_length=TEXT_MAX)]


class TextPath(BaseModel):
    """A locale and a text key in a path."""

    locale: LocaleTag
    key: Annotated[
        str,
        StringConstraints(min_length=1, max_length=KEY_MAX),
        Field(json_schema_extra={"pattern": f"^{KEY_PATTERN}$"}),
    ]


class LocaleBody(BaseModel):
    """Body of POST /api/v1/i18n/locales, and of PUT on a chat's locale."""

    model_config = ConfigDict(extra="forbid")

    locale: LocaleTag


class ChatPath(BaseModel):
    """A chat in a path."""

    platform: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    chat_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]


def _text_path(request: web.Request) -> TextPath:
    return TextPath(locale=request.match_info["locale"], key=request.match_info["key"])


def _chat_path(request: web.Request) -> ChatPath:
    return ChatPath(platform=request.match_info["platform"], chat_id=request.match_info["chat_id"])


@routes.get("/api/v1/i18n/texts")
@answers(shapes.TextPage)
async def list_texts(request: web.Request) -> shapes.TextPage:
    """List texts of a locale (or every locale), searching keys and texts, a page at a time."""
    query = query_model(request, TextQuery)
    views = request.app[I18N].texts.list_texts(query.locale, query.q)
    page = views[query.offset : query.offset + query.limit]
    return shapes.TextPage(
        items=[shapes.Text.of(view) for view in page],
        count=len(views),
        offset=query.offset,
        limit=query.limit,
    )


@routes.get("/api/v1/i18n/texts/{locale}/{key}")
@answers(shapes.Text)
async def get_text(request: web.Request) -> shapes.Text:
    """Show the text a locale uses for one key."""
    path = _text_path(request)
    texts = request.app[I18N].texts
    return shapes.Text.of(texts.view_checked(path.locale, path.key))


@routes.put("/api/v1/i18n/texts/{locale}/{key}")
@answers(shapes.Text)
async def put_text(request: web.Request) -> shapes.Text:
    """Override a text; it is used from the next message or error on."""
    path = _text_path(request)
    body = await body_model(request, TextBody)
    view = await request.app[I18N].texts.set_text(path.locale, path.key, body.text)
    return shapes.Text.of(view)


@routes.delete("/api/v1/i18n/texts/{locale}/{key}")
@answers(shapes.Text)
async def delete_text(request: web.Request) -> shapes.Text:
    """Drop an override: the catalog's text is used again."""
    path = _text_path(request)
    view = await request.app[I18N].texts.reset_text(path.locale, path.key)
    return shapes.Text.of(view)


@routes.get("/api/v1/i18n/locales")
@answers(shapes.LocaleList)
async def list_locales(request: web.Request) -> shapes.LocaleList:
    """List the offered locales, named in themselves and in the caller's language."""
    viewer = request_locale(request)
    views = request.app[I18N].texts.locale_views()
    items = [shapes.LocaleInfo.of(view, viewer) for view in views]
    return shapes.LocaleList(items=items, count=len(items))


@routes.post("/api/v1/i18n/locales")
@answers(shapes.LocaleInfo, status=(200, 201))
async def add_locale(request: web.Request) -> Reply[shapes.LocaleInfo]:
    """Offer a new locale; its texts fall back until overridden."""
    body = await body_model(request, LocaleBody)
    view, created = await request.app[I18N].texts.add_locale(body.locale)
    info = shapes.LocaleInfo.of(view, request_locale(request))
    return Reply(info, 201 if created else 200)


@routes.delete("/api/v1/i18n/locales/{locale}")
@answers(shapes.LocaleRemoved)
async def remove_locale(request: web.Request) -> shapes.LocaleRemoved:
    """Stop offering a locale an operator added, with its overrides."""
    locale = LocaleBody(locale=request.match_info["locale"]).locale
    await request.app[I18N].texts.remove_locale(locale)
    return shapes.LocaleRemoved(locale=locale, removed=True)


@routes.get("/api/v1/i18n/chat-locales")
@answers(shapes.ChatLocaleList)
async def list_chat_locales(request: web.Request) -> shapes.ChatLocaleList:
    """List the chats an operator set a locale for."""
    items = [
        shapes.ChatLocale(platform=platform, chat_id=chat_id, locale=locale)
        for platform, chat_id, locale in request.app[I18N].chats.items()
    ]
    return shapes.ChatLocaleList(items=items, count=len(items))


@routes.get("/api/v1/chats/{platform}/{chat_id}/locale")
@answers(shapes.ChatLocale)
async def get_chat_locale(request: web.Request) -> shapes.ChatLocale:
    """Show the locale an operator set for a chat."""
    chat = _chat_path(request)
    locale = request.app[I18N].chats.get(chat.platform, chat.chat_id)
    if locale is None:
        raise HubError(ErrorCode.NOT_FOUND, what="chat locale", id=chat.chat_id)
    return shapes.ChatLocale(platform=chat.platform, chat_id=chat.chat_id, locale=locale)


@routes.put("/api/v1/chats/{platform}/{chat_id}/locale")
@answers(shapes.ChatLocale)
async def put_chat_locale(request: web.Request) -> shapes.ChatLocale:
    """Speak to a chat in a locale, ahead of what its events and driver say."""
    chat = _chat_path(request)
    body = await body_model(request, LocaleBody)
    locale = await request.app[I18N].chats.set(chat.platform, chat.chat_id, body.locale)
    return shapes.ChatLocale(platform=chat.platform, chat_id=chat.chat_id, locale=locale)


@routes.delete("/api/v1/chats/{platform}/{chat_id}/locale")
@answers(shapes.ChatLocale)
async def delete_chat_locale(request: web.Request) -> shapes.ChatLocale:
    """Forget a chat's locale: its events and driver decide again."""
    chat = _chat_path(request)
    if not await request.app[I18N].chats.clear(chat.platform, chat.chat_id):
        raise HubError(ErrorCode.NOT_FOUND, what="chat locale", id=chat.chat_id)
    return shapes.ChatLocale(platform=chat.platform, chat_id=chat.chat_id, locale=None)
