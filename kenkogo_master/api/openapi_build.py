"""Build the OpenAPI 3.1 document from the router and the pydantic models at the edge.

OpenAPI 3.1 speaks JSON Schema 2020-12, which is what pydantic's `model_json_schema` writes:
query parameters and bodies come from the models the handlers validate with, JSON answers from
the models the handlers return (their `@answers` declaration), so the document follows the code
when a model changes.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel

from kenkogo_master.api.answers import Declared, declared
from kenkogo_master.api.openapi_shapes import Error

REF = "#/components/schemas/{model}"
JSON = "application/json"
Mode = Literal["validation", "serialization"]

# Why each error status is answered, as the document's shared responses.
ERROR_RESPONSES: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "Invalid input: a parameter, path segment or body failed validation."),
    401: (
        "Unauthorized",
        "No bearer token or session, or an unknown or ended one; at login, a wrong name or "
        "password (`invalid_credentials`).",
    ),
    403: (
        "Forbidden",
        "The token lacks the admin scope this operation needs, or a session's request lacks "
        "its `X-CSRF-Token` (`csrf_failed`).",
    ),
    404: ("NotFound", "Nothing with that id or name."),
    409: (
        "Conflict",
        "The state forbids it: an illegal transition, a held name, or a file that exists, is "
        "not of the kind the operation needs, or that the file system refused.",
    ),
    412: ("PreconditionFailed", "If-Match names a version the file no longer has."),
    413: (
        "PayloadTooLarge",
        "The body is over limits.max_payload (files.max_upload for uploads, files.max_edit for "
        "texts).",
    ),
    416: ("RangeNotSatisfiable", "The Range starts past the end of the file."),
    428: ("PreconditionRequired", "Changing an existing text needs If-Match."),
    429: (
        "TooManyRequests",
        "Too many failed logins (`too_many_attempts`): try again after Retry-After seconds.",
    ),
    503: ("Unavailable", "The Master is shutting down or a bounded queue is full."),
    507: ("InsufficientStorage", "No space is left on the disk."),
}
_STATUS_TEXT = {201: "Created", 206: "Partial Content"}
_PLACEHOLDER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


@dataclass(frozen=True, slots=True)
class Doc:
    """How one operation is documented: its inputs, errors and scope.

    A JSON answer is what the handler declares with `@answers`; `ok`, `ok_schema` and `success`
    are for the few answers that are not JSON (downloads, the event stream, pages).
    """

    tag: str
    ok: tuple[type[BaseModel], ...] = ()  # a body that is not JSON but has a model (a stream)
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_media: str = JSON
    body_schema: dict[str, Any] | None = None  # for bodies that are not JSON objects
    body_optional: bool = False  # the operation also works without a body
    headers: tuple[dict[str, Any], ...] = ()  # header parameters, as OpenAPI writes them
    path: type[BaseModel] | None = None  # validates the path's segments
    path_schemas: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    success: tuple[int, ...] = ()  # of answers that are not JSON; none given: 200
    errors: tuple[int, ...] = ()  # beyond those the models and the scope imply
    admin: bool = False  # needs the admin scope even to read
    public: bool = False  # no token needed
    media: str = JSON
    ok_schema: dict[str, Any] | None = None  # for bodies that are not JSON objects
    note: str = ""
    # Operations whose path parameter the success body supplies (OpenAPI links).
    links: Mapping[str, dict[str, Any]] = field(default_factory=dict)


class Components:
    """The schemas the document's `$ref`s point at, gathered from pydantic models."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}
        self.ref(Error, "serialization")

    def add(self, name: str, schema: dict[str, Any]) -> None:
        """Keep a named schema; two different schemas under one name would be a mistake."""
        known = self.schemas.setdefault(name, schema)
        if known != schema:
            raise ValueError(f"two different schemas are named {name!r}")

    def ref(self, model: type[BaseModel], mode: Mode) -> dict[str, Any]:
        """Return a `$ref` to `model`, adding its schema and those it uses."""
        self.add(model.__name__, _schema(model, mode, self))
        return {"$ref": REF.format(model=model.__name__)}


def _schema(model: type[BaseModel], mode: Mode, components: Components) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, ref_template=REF, mode=mode)
    for name, definition in schema.pop("$defs", {}).items():
        components.add(name, definition)
    return schema


def links(pointer: str, parameter: str, *operation_ids: str) -> dict[str, dict[str, Any]]:
    """Link operations whose `parameter` is the value at `pointer` in the success body."""
    value = f"$response.body#{pointer}"
    return {op: {"operationId": op, "parameters": {parameter: value}} for op in operation_ids}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop `null` from an optional query parameter: leaving it out is how it is not given."""
    schema = {key: value for key, value in schema.items() if key != "title"}
    if schema.get("default", ...) is None:
        del schema["default"]
    options = schema.get("anyOf")
    if isinstance(options, list):
        kept = [option for option in options if option != {"type": "null"}]
        del schema["anyOf"]
        if len(kept) == 1:
            schema = {**kept[0], **schema}
        else:
            schema["anyOf"] = kept
    return schema


def query_parameters(model: type[BaseModel], components: Components) -> list[dict[str, Any]]:
    """Return one `in: query` parameter per field of `model`."""
    schema = _schema(model, "validation", components)
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        described = _without_null(prop)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in described:
            parameter["description"] = described.pop("description")
        parameters.append({**parameter, "schema": described})
    return parameters


def path_parameters(
    template: str, doc: Doc, components: Components, defaults: Mapping[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Return one `in: path` parameter per `{name}` in `template`."""
    props: dict[str, Any] = {}
    if doc.path is not None:
        props = _schema(doc.path, "validation", components).get("properties", {})
    parameters = []
    for name in _PLACEHOLDER.findall(template):
        schema = doc.path_schemas.get(name) or props.get(name) or defaults.get(name)
        described = _without_null(dict(schema or {"type": "string", "minLength": 1}))
        parameter = {"name": name, "in": "path", "required": True}
        if "description" in described:
            parameter["description"] = described.pop("description")
        parameters.append({**parameter, "schema": described})
    return parameters


def error_statuses(method: str, doc: Doc) -> list[int]:
    """Return the error statuses an operation really answers with."""
    statuses = set(doc.errors)
    if not doc.public:
        statuses.add(401)
        if doc.admin or method not in {"GET", "HEAD"}:
            statuses.add(403)
    if doc.query is not None or doc.path is not None:
        statuses.add(400)
    if doc.body is not None or doc.body_schema is not None:
        statuses.update({400, 413})
    return sorted(statuses)


def answer_of(route: web.AbstractRoute, doc: Doc) -> Declared:
    """Return the models and statuses an operation answers with, from one place only."""
    found = declared(route.handler)
    name = getattr(route.handler, "__name__", route.method)
    if found is not None:
        if doc.ok or doc.ok_schema is not None or doc.success or doc.media != JSON:
            raise ValueError(f"{name} declares its answer with @answers: its Doc must not")
        return found
    if doc.media == JSON and doc.ok_schema is None:
        raise ValueError(f"{name} answers JSON: declare its model with @answers")
    return Declared(doc.ok, doc.success or (200,))


def _success_schema(
    models: tuple[type[BaseModel], ...], doc: Doc, components: Components
) -> dict[str, Any] | None:
    if doc.ok_schema is not None:
        return doc.ok_schema
    refs = [components.ref(model, "serialization") for model in models]
    if not refs:
        return None
    return refs[0] if len(refs) == 1 else {"anyOf": refs}


def _summary(handler: Any) -> tuple[str, str]:
    text = inspect.getdoc(handler) or ""
    summary, _, rest = text.partition("\n")
    return summary.strip(), rest.strip()


def operation(
    route: web.AbstractRoute,
    doc: Doc,
    components: Components,
    path_defaults: Mapping[str, dict[str, Any]],
) -> dict[str, Any]:
    """Describe one route as an OpenAPI operation object."""
    template = route.resource.canonical if route.resource is not None else ""
    summary, more = _summary(route.handler)
    notes = [text for text in (more, doc.note) if text]
    if doc.query is not None and doc.query.model_config.get("extra") == "forbid":
        notes.append("Unknown query parameters are refused with 400.")
    if 403 in error_statuses(route.method, doc):
        notes.append("Needs a token with the `admin` scope, or a signed-in session.")
    elif not doc.public:
        notes.append("Any token will do (`read` or `admin`), or a signed-in session.")
    op: dict[str, Any] = {
        "operationId": getattr(route.handler, "__name__", template),
        "tags": [doc.tag],
        "summary": summary,
        "description": "\n\n".join(notes),
    }
    parameters = path_parameters(template, doc, components, path_defaults)
    if doc.query is not None:
        parameters += query_parameters(doc.query, components)
    parameters += [{**header, "in": "header"} for header in doc.headers]
    if parameters:
        op["parameters"] = parameters
    if doc.body is not None:
        op["requestBody"] = {
            "required": not doc.body_optional,
            "content": {JSON: {"schema": components.ref(doc.body, "validation")}},
        }
    elif doc.body_schema is not None:
        op["requestBody"] = {
            "required": True,
            "content": {doc.body_media: {"schema": doc.body_schema}},
        }
    responses: dict[str, Any] = {}
    answer_models = answer_of(route, doc)
    schema = _success_schema(answer_models.models, doc, components)
    for status in answer_models.statuses:
        answer: dict[str, Any] = {"description": _STATUS_TEXT.get(status, "OK")}
        if schema is not None:
            answer["content"] = {doc.media: {"schema": schema}}
        if doc.links:
            answer["links"] = dict(doc.links)
        responses[str(status)] = answer
    for status in error_statuses(route.method, doc):
        responses[str(status)] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}
    op["responses"] = responses
    if doc.public:
        op["security"] = []
    return op


def build_document(
    routes: Iterable[web.AbstractRoute],
    docs: Mapping[tuple[str, str], Doc],
    info: dict[str, Any],
    tags: list[dict[str, str]],
    path_defaults: Mapping[str, dict[str, Any]],
) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the documented `routes` (HEAD mirrors GET)."""
    components = Components()
    paths: dict[str, dict[str, Any]] = {}
    operation_ids: set[str] = set()
    for route in routes:
        if route.method == "HEAD" or route.resource is None:
            continue
        doc = docs.get((route.method, route.resource.canonical))
        if doc is None:
            continue
        op = operation(route, doc, components, path_defaults)
        if op["operationId"] in operation_ids:
            raise ValueError(f"two operations are named {op['operationId']!r}")
        operation_ids.add(op["operationId"])
        paths.setdefault(route.resource.canonical, {})[route.method.lower()] = op
    error_ref = {"$ref": REF.format(model="Error")}
    return {
        "openapi": "3.1.0",
        "info": info,
        "tags": tags,
        "security": [{"bearer": []}, {"session": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token: `read` for reads, `admin` for everything.",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "kenkogo_session",
                    "description": "The cookie POST /api/v1/auth/login sets (`__Host-kenkogo_"
                    "session` over TLS). Every request but a GET must also carry the session's "
                    "CSRF token as `X-CSRF-Token`.",
                },
            },
            "responses": {
                name: {"description": text, "content": {JSON: {"schema": error_ref}}}
                for name, text in ERROR_RESPONSES.values()
            },
            "schemas": dict(sorted(components.schemas.items())),
        },
    }
