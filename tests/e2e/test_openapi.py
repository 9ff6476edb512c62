"""The OpenAPI document and its page: complete, valid, public, and true of real answers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from kenkogo_master.api.answers import declared
from kenkogo_master.api.openapi_build import JSON
from kenkogo_master.api.openapi_spec import DOCS
from kenkogo_master.errors import ErrorCode
from tests.conftest import RunningMaster, StartMaster
from tests.support.clients import SioApp

# Routes that are not REST: transports with their own framing, and Prometheus' text.
NOT_REST = ("/socket.io/", "/ws", "/onebot/", "/metrics", "/static", "/swagger-ui")
PAGES = frozenset({"/"})  # the admin panel: HTML for people, not part of the REST API


@pytest.fixture
async def opened() -> AsyncIterator[list[SioApp]]:
    """Apps a test connects; closed at teardown, so that stopping the Master is quick."""
    apps: list[SioApp] = []
    yield apps
    for app in apps:
        await app.close()


async def fetch_document(master: RunningMaster) -> dict[str, Any]:
    """Fetch the document without a token."""
    async with master.http.get(f"{master.url}/api/v1/openapi.json") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        document: dict[str, Any] = await response.json()
        return document


def served_routes(master: RunningMaster) -> set[tuple[str, str]]:
    """Return (method, path) of every REST route the Master serves; HEAD mirrors GET."""
    served = set()
    for route in master.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method != "HEAD" and not path.startswith(NOT_REST) and path not in PAGES:
            served.add((route.method, path))
    return served


def documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    """Return (method, path) of every operation in the document."""
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def check_answer(document: dict[str, Any], method: str, path: str, status: int, body: Any) -> None:
    """Validate an answer against the schema the document gives for it."""
    answer = document["paths"][path][method.lower()]["responses"][str(status)]
    if "$ref" in answer:
        answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[-1]]
    schema = answer["content"]["application/json"]["schema"]
    # The document is the root, so that its #/components/... references resolve.
    Draft202012Validator({**document, **schema}).validate(body)


async def test_every_rest_route_is_documented_and_nothing_else(master: RunningMaster) -> None:
    document = await fetch_document(master)
    served = served_routes(master)
    assert ("GET", "/health") in served and ("GET", "/api/v1/stats/overview") in served
    assert served - documented(document) == set(), "routes missing from the document"
    assert documented(document) - served == set(), "documented routes the Master lacks"
    assert set(DOCS) == served, "entries of the documentation table with no route"


async def test_every_json_operation_declares_the_models_the_document_shows(
    master: RunningMaster,
) -> None:
    document = await fetch_document(master)
    checked = set()
    for route in master.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        doc = DOCS.get((route.method, path))
        if doc is None:
            continue
        found = declared(route.handler)
        if doc.media != JSON or doc.ok_schema is not None:
            assert found is None, f"{route.method} {path} is not JSON but declares a model"
            continue
        assert found is not None, f"{route.method} {path} answers JSON without @answers"
        responses = document["paths"][path][route.method.lower()]["responses"]
        # Failures point at the shared `{code, message}` answers; the rest are the handler's.
        successes = {int(status) for status, answer in responses.items() if "$ref" not in answer}
        assert successes == set(found.statuses), (route.method, path)
        for status in found.statuses:
            schema = responses[str(status)]["content"][JSON]["schema"]
            refs = schema.get("anyOf", [schema])
            names = [ref["$ref"].rsplit("/", 1)[-1] for ref in refs]
            assert names == [model.__name__ for model in found.models], (route.method, path)
        checked.add((route.method, path))
    assert ("GET", "/api/v1/messages") in checked and ("GET", "/health") in checked
    json_docs = {key for key, doc in DOCS.items() if doc.media == JSON and doc.ok_schema is None}
    assert checked == json_docs


async def test_every_get_without_a_path_parameter_answers_as_documented(
    master: RunningMaster,
) -> None:
    document = await fetch_document(master)
    for path, item in document["paths"].items():
        operation = item.get("get")
        if operation is None or "{" in path:
            continue
        if JSON not in operation["responses"]["200"].get("content", {}):
            continue  # a page, a download or the event stream
        status, body = await master.api("GET", path)
        check_answer(document, "GET", path, status, body)


async def test_the_document_is_valid_openapi_3_1(master: RunningMaster) -> None:
    document = await fetch_document(master)
    assert document["openapi"] == "3.1.0"
    validate(document)
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message"]
    codes = document["components"]["schemas"]["ErrorCode"]["enum"]
    assert set(codes) == {code.value for code in ErrorCode}


async def test_statuses_and_scopes_are_described(master: RunningMaster) -> None:
    paths = (await fetch_document(master))["paths"]
    delete_token = paths["/api/v1/tokens/{id}"]["delete"]
    assert set(delete_token["responses"]) == {"200", "401", "403", "404"}
    assert "security" not in delete_token  # the document-wide bearer scheme applies
    create = paths["/api/v1/tokens"]["post"]
    assert set(create["responses"]) == {"201", "400", "401", "403", "413"}
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TokenCreate"
    }
    series = paths["/api/v1/stats/messages"]["get"]
    names = [parameter["name"] for parameter in series["parameters"]]
    assert names == ["from", "to", "interval", "platform", "chat", "sender"]
    assert paths["/health"]["get"]["security"] == []
    assert paths["/api/v1/openapi.json"]["get"]["security"] == []
    events = paths["/api/v1/events"]["get"]["responses"]["200"]["content"]
    assert list(events) == ["text/event-stream"]


async def test_the_document_and_its_page_need_no_token_but_the_api_does(
    master: RunningMaster,
) -> None:
    async with master.http.get(f"{master.url}/api/v1/docs") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        page = await response.text()
    async with master.http.get(f"{master.url}/api/v1/system") as response:
        assert response.status == 401
        assert (await response.json())["code"] == "unauthorized"
    # Swagger UI, from this Master only: nothing is fetched from elsewhere (tests/panel drives
    # it in a browser), and it reads the same document.
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert '<script src="/swagger-ui/swagger-ui-bundle.js">' in page
    async with master.http.get(f"{master.url}/static/api-docs/api-docs.js") as response:
        assert 'url: "/api/v1/openapi.json"' in await response.text()


async def test_answers_about_one_thing_match_the_document(
    start_master: StartMaster, opened: list[SioApp]
) -> None:
    master = await start_master(traces__sample_ratio="1")
    app = SioApp(master.url)
    opened.append(app)

    async def on_message(data: dict[str, Any]) -> Any:
        return {"reply": "echo: " + data["content"]}

    app.client.on("message", on_message, namespace="/app")
    await app.connect()
    registered = await app.register("echo")
    status, simulated = await master.api(
        "POST", "/api/v1/simulate", json={"content": "hi", "wait_ms": 500}
    )
    assert status == 200 and simulated["replies"], simulated
    document = await fetch_document(master)
    message_id, app_id = simulated["id"], registered["id"]
    status, message = await master.api("GET", f"/api/v1/messages/{message_id}")
    assert status == 200 and message["deliveries"] and message["replies"], message
    check_answer(document, "GET", "/api/v1/messages/{id}", status, message)
    status, trace = await master.api("GET", f"/api/v1/messages/{message_id}/trace")
    assert status == 200 and trace["spans"], trace
    check_answer(document, "GET", "/api/v1/messages/{id}/trace", status, trace)
    status, same = await master.api("GET", f"/api/v1/traces/{trace['trace_id']}")
    check_answer(document, "GET", "/api/v1/traces/{trace_id}", status, same)
    for action in ("pause", "resume"):
        status, body = await master.api("POST", f"/api/v1/apps/{app_id}/{action}")
        assert status == 200, body
        check_answer(document, "POST", f"/api/v1/apps/{{id}}/{action}", status, body)
    status, body = await master.api("POST", f"/api/v1/apps/{app_id}/resume")
    assert status == 409, body
    check_answer(document, "POST", "/api/v1/apps/{id}/resume", status, body)
    status, body = await master.api("POST", f"/api/v1/apps/{app_id}/kick")
    check_answer(document, "POST", "/api/v1/apps/{id}/kick", status, body)
    status, body = await master.api("GET", f"/api/v1/apps/{app_id}")
    assert status == 200 and body["state"] == "disconnected", body
    check_answer(document, "GET", "/api/v1/apps/{id}", status, body)
    for path, template in (
        ("/api/v1/stats/apps/echo", "/api/v1/stats/apps/{name}"),
        ("/api/v1/stats/users/active?interval=hour", "/api/v1/stats/users/active"),
        ("/api/v1/stats/users/active?window=wau", "/api/v1/stats/users/active"),
    ):
        status, body = await master.api("GET", path)
        assert status == 200, body
        check_answer(document, "GET", template, status, body)


async def test_a_read_token_is_refused_where_the_document_says_admin(
    master: RunningMaster,
) -> None:
    status, created = await master.api("POST", "/api/v1/tokens", json={"name": "ro"})
    assert status == 201
    document = await fetch_document(master)
    headers = master.auth(created["token"])
    for path, item in document["paths"].items():
        if "{" in path or "get" not in item or path == "/api/v1/events":
            continue
        async with master.http.get(master.url + path, headers=headers) as response:
            admin_only = "403" in item["get"]["responses"]
            assert (response.status == 403) == admin_only, path
