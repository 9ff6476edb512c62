"""`main.py healthcheck`: ask the Master's own /health on the port its settings configure.

A container's HEALTHCHECK runs this, so it must follow `[server] port` and `host` (file or
KENKOGO_SERVER__* environment) instead of a port written into the image, and stay cheap: the
standard library's HTTP client, no event loop.
"""

from __future__ import annotations

import http.client
import ipaddress

from kenkogo_master.settings import ServerSettings

EXIT_HEALTHY = 0
EXIT_UNHEALTHY = 1  # what Docker's HEALTHCHECK reads as unhealthy


def probe_host(host: str) -> str:
    """Return the address to ask: loopback when the Master listens on every address."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def url_of(server: ServerSettings) -> str:
    """Return the /health URL the Master answers on, for messages."""
    host = probe_host(server.host)
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:  # a name, not an address
        pass
    return f"http://{host}:{server.port}/health"


def check(server: ServerSettings, timeout: float) -> tuple[int, str]:
    """GET /health once; return the exit code and one line that says what was seen."""
    url = url_of(server)
    connection = http.client.HTTPConnection(probe_host(server.host), server.port, timeout=timeout)
    try:
        connection.request("GET", "/health", headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read(4096).decode("utf-8", "replace").strip()
    except (OSError, http.client.HTTPException) as exc:
        return EXIT_UNHEALTHY, f"unhealthy: {url}: {exc or type(exc).__name__}"
    finally:
        connection.close()
    if response.status != 200:
        return EXIT_UNHEALTHY, f"unhealthy: {url} answered {response.status}: {body}"
    return EXIT_HEALTHY, f"healthy: {url}: {body}"
