"""Spans also go out over OTLP/HTTP when an endpoint is configured."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.conftest import StartMaster
from tests.support.flow_clients import SioDriver, start_app

TOKEN = "driver-token"


class Collector:
    """A stand-in OTLP/HTTP collector that keeps every request it gets."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.url = ""

    async def receive(self, request: web.Request) -> web.Response:
        assert request.content_type == "application/x-protobuf"
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.read())
        self.requests.append(message)
        return web.Response(body=b"", content_type="application/x-protobuf")

    def spans(self) -> list[tuple[str, str]]:
        """Return (service name, span name) of every span received."""
        found = []
        for message in self.requests:
            for resource_spans in message.resource_spans:
                attributes = {
                    a.key: a.value.string_value for a in resource_spans.resource.attributes
                }
                for scope_spans in resource_spans.scope_spans:
                    found += [(attributes["service.name"], s.name) for s in scope_spans.spans]
        return found


@pytest.fixture
async def collector() -> AsyncIterator[Collector]:
    found = Collector()
    app = web.Application()
    app.router.add_post("/v1/traces", found.receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    found.url = f"http://127.0.0.1:{port}/v1/traces"
    yield found
    await runner.cleanup()


async def test_spans_reach_the_otlp_endpoint_and_sql(
    start_master: StartMaster, collector: Collector
) -> None:
    master = await start_master(
        drivers__tokens=f'["{TOKEN}"]',
        traces__sample_ratio="1.0",
        traces__batch_delay_ms="50",
        traces__otlp_endpoint=collector.url,
    )
    app = await start_app(master.url, "echo")
    driver = await SioDriver(master.url).connect(TOKEN)
    await driver.register("qq", "1")
    ack = await driver.send("hello")
    await app.next_message()
    wanted = {"ingest", "route", "deliver echo", "attempt", "ack"}
    for _ in range(100):
        if wanted <= {name for _, name in collector.spans()}:
            break
        await asyncio.sleep(0.05)
    assert wanted <= {name for _, name in collector.spans()}, collector.spans()
    assert {service for service, _ in collector.spans()} == {"kenkogo-master"}
    status, body = await master.api("GET", f"/api/v1/messages/{ack['id']}/trace")
    assert status == 200 and {span["name"] for span in body["spans"]} >= wanted
    await app.close()
    await driver.close()
