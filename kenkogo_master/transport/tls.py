"""TLS for the one port: the server's certificate, and client certificates for agents."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from aiohttp import web

from kenkogo_master.settings import ServerSettings


class TlsError(Exception):
    """A certificate, key or CA file that cannot be used; the message names the file and why."""


def _read_check(key: str, path: Path) -> None:
    """Refuse a file that is missing or unreadable, naming the key that points at it."""
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise TlsError(f"server.{key}: {path}: {exc.strerror or exc}") from None


def server_context(server: ServerSettings) -> ssl.SSLContext | None:
    """Return the TLS context to serve with, or None when `tls_cert` is not set."""
    if server.tls_cert is None or server.tls_key is None:
        return None
    _read_check("tls_cert", server.tls_cert)
    _read_check("tls_key", server.tls_key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(server.tls_cert, server.tls_key)
    except ssl.SSLError as exc:
        raise TlsError(
            f"server.tls_cert/tls_key: {server.tls_cert}, {server.tls_key}: not a PEM certificate "
            f"and its matching private key ({exc.reason or exc})"
        ) from None
    if server.tls_client_ca is not None:
        _read_check("tls_client_ca", server.tls_client_ca)
        try:
            context.load_verify_locations(cafile=server.tls_client_ca)
        except ssl.SSLError as exc:
            raise TlsError(
                f"server.tls_client_ca: {server.tls_client_ca}: not a PEM CA bundle "
                f"({exc.reason or exc})"
            ) from None
        # One port serves browsers too: ask every client for a certificate, require one only
        # where an agent connects (client_certified). A certificate presented is always verified.
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def client_certified(request: web.Request | None) -> bool:
    """Tell whether the connection presented a client certificate the configured CA signed.

    With CERT_OPTIONAL a presented certificate that does not verify fails the handshake, so any
    certificate the TLS layer kept here is one the CA signed.
    """
    transport = request.transport if request is not None else None
    if transport is None:
        return False
    peer: Any = transport.get_extra_info("peercert")
    return bool(peer)


def client_certificate_required(server: ServerSettings) -> bool:
    """Tell whether drivers and runners must present a client certificate."""
    return server.tls_client_ca is not None and server.tls_cert is not None
