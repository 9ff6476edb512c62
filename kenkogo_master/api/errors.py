"""One funnel from failures to JSON `{code, message}` responses with the right HTTP status."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from pydantic import ValidationError

from kenkogo_master.api.answers import model_response
from kenkogo_master.api.openapi_shapes import Error
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.hub import Hub
from kenkogo_master.keys import HUB, I18N
from kenkogo_master.observability import log_context
from kenkogo_master.store.writer import StorageUnavailable
from kenkogo_master.transport.app_events import describe_validation

log = logging.getLogger(__name__)

STATUS = {
    ErrorCode.INVALID_PAYLOAD: 400,
    ErrorCode.INVALID_JSON: 400,
    ErrorCode.INVALID_REGEX: 400,
    ErrorCode.INVALID_MANIFEST: 400,
    ErrorCode.INVALID_ARCHIVE: 400,
    ErrorCode.ARCHIVE_UNSAFE_PATH: 400,
    ErrorCode.ARCHIVE_LINK: 400,
    ErrorCode.ARCHIVE_SPECIAL_FILE: 400,
    ErrorCode.ARCHIVE_TOO_LARGE: 400,
    ErrorCode.UNKNOWN_SETTING: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.INVALID_CREDENTIALS: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.WRONG_PASSWORD: 403,
    ErrorCode.CSRF_FAILED: 403,
    ErrorCode.ORIGIN_NOT_ALLOWED: 403,
    ErrorCode.CLIENT_CERTIFICATE_REQUIRED: 403,
    ErrorCode.SESSION_REQUIRED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.UNKNOWN_MESSAGE: 404,
    ErrorCode.ILLEGAL_TRANSITION: 409,
    ErrorCode.NAME_HELD: 409,
    ErrorCode.MAINTENANCE_RUNNING: 409,
    ErrorCode.BACKUP_UNSUPPORTED: 409,
    ErrorCode.RESTART_REQUIRED: 409,
    ErrorCode.LAST_ACCOUNT: 409,
    ErrorCode.OWN_ACCOUNT: 409,
    ErrorCode.RUNNER_OFFLINE: 409,
    ErrorCode.NO_RUNNER_MATCHES: 409,
    ErrorCode.MASTER_VERSION_MISMATCH: 409,
    ErrorCode.INSTALL_RUNNING: 409,
    ErrorCode.NOT_INSTALLED: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.TOO_MANY_ATTEMPTS: 429,
    ErrorCode.PATH_OUTSIDE_ROOT: 400,
    ErrorCode.INVALID_PATH: 400,
    ErrorCode.SPECIAL_FILE: 400,
    ErrorCode.ALREADY_EXISTS: 409,
    ErrorCode.NOT_A_FOLDER: 409,
    ErrorCode.NOT_A_FILE: 409,
    ErrorCode.FOLDER_NOT_EMPTY: 409,
    ErrorCode.NOT_TEXT: 409,
    ErrorCode.TOO_LARGE_TO_EDIT: 409,
    ErrorCode.FILE_ERROR: 409,
    ErrorCode.UPLOAD_OFFSET_MISMATCH: 409,
    ErrorCode.UPLOAD_BUSY: 409,
    ErrorCode.UPLOAD_INCOMPLETE: 409,
    ErrorCode.TOO_MANY_UPLOADS: 409,
    ErrorCode.VERSION_MISMATCH: 412,
    ErrorCode.RANGE_NOT_SATISFIABLE: 416,
    ErrorCode.VERSION_REQUIRED: 428,
    ErrorCode.NO_SPACE: 507,
    ErrorCode.OVERLOADED: 503,
    ErrorCode.DRIVER_UNAVAILABLE: 503,
    ErrorCode.SHUTTING_DOWN: 503,
    ErrorCode.STORAGE_UNAVAILABLE: 503,
}

_HTTP_CODES = {
    400: ErrorCode.INVALID_PAYLOAD,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
}


def request_locale(request: web.Request) -> str | None:
    """Return the offered locale that best fits the caller's Accept-Language, if any."""
    i18n = request.app.get(I18N)
    if i18n is None:
        return None
    return i18n.request_locale(request.headers.get("Accept-Language"))


def error_response(hub: Hub, request: web.Request, error: HubError) -> web.Response:
    """Render a HubError as its documented model, `{code, message}`."""
    body = Error(**hub.error(error, request_locale(request)))
    return model_response(body, STATUS.get(error.code, 500))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

_STREAMS_BODY = "_kenkogo_streams_body"


def streams_body(handler: H) -> H:
    """Mark a handler that streams its body under a limit of its own (uploads).

    Such a body is never read whole into memory, so limits.max_payload does not apply to it;
    the handler checks the declared size up front and the received size while it streams.
    """
    setattr(handler, _STREAMS_BODY, True)
    return handler


def _refuse_oversized(request: web.Request, limit: int) -> None:
    """Refuse a declared body over the limit up front, even where the handler never reads it."""
    size = request.content_length
    if size is None or size <= limit or not request.path.startswith("/api/"):
        return
    # The routed handler, not the path, decides: an unknown route never streams.
    if getattr(request.match_info.handler, _STREAMS_BODY, False):
        return
    raise HubError(ErrorCode.PAYLOAD_TOO_LARGE, size=size, limit=limit)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure under /api and /health into `{code, message}`."""
    hub = request.app[HUB]
    # The request's own task: whatever it logs is about this caller.
    bound = log_context.bind(remote=request.remote)
    try:
        _refuse_oversized(request, hub.settings.limits.max_payload)
        return await handler(request)
    except HubError as exc:
        response = error_response(hub, request, exc)
        if "retry_after" in exc.params:  # a refusal for a while says how long (429)
            response.headers["Retry-After"] = str(exc.params["retry_after"])
        return response
    except StorageUnavailable:
        return error_response(hub, request, HubError(ErrorCode.STORAGE_UNAVAILABLE))
    except ValidationError as exc:
        error = HubError(ErrorCode.INVALID_PAYLOAD, detail=describe_validation(exc))
        return error_response(hub, request, error)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/api/"):
            raise
        code = _HTTP_CODES.get(exc.status, ErrorCode.INVALID_PAYLOAD)
        params: dict[str, object] = {"detail": exc.reason, "what": "route", "id": request.path}
        if code is ErrorCode.PAYLOAD_TOO_LARGE:
            params = {
                "size": request.content_length or 0,
                "limit": request.app[HUB].settings.limits.max_payload,
            }
        allowed = ""
        if isinstance(exc, web.HTTPMethodNotAllowed):
            allowed = ", ".join(sorted(exc.allowed_methods))
            params = {"method": request.method, "allowed": allowed}
        response = error_response(hub, request, HubError(code, **params))
        if allowed:
            response.headers["Allow"] = allowed
        return response
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return error_response(hub, request, HubError(ErrorCode.INTERNAL))
    finally:
        log_context.unbind(bound)
