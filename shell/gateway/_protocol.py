"""The gateway's HTTP protocol: uvicorn's h11 protocol with two additions.

- A client must finish sending a request's headers within a deadline of their first byte
  (or of the connection), else the connection is closed: a slow or vanished client does
  not keep a connection slot (uvicorn has no such timeout of its own).
- Mutual TLS: uvicorn verifies a client certificate but does not hand it to the
  application, so the protocol reads it off each TLS connection and puts the agency its
  subject's common name names in the request's scope under :data:`SCOPE_KEY`.
"""

import asyncio
import ssl
from pathlib import Path
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["SCOPE_KEY", "gateway_protocol", "tls_options"]

SCOPE_KEY = "docbus.client_certificate_agency"


class _GatewayProtocol(H11Protocol):
    """h11 with a headers deadline and the client certificate's agency in the scope."""

    header_seconds: float = 10.0

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._arm()
        tls = transport.get_extra_info("ssl_object")
        agency = _common_name(tls.getpeercert()) if tls is not None else None
        if agency:
            self.app = _WithAgency(self.app, agency)

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers():
            self._arm()
        super().data_received(data)
        if not self._awaiting_headers():
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _awaiting_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = asyncio.get_running_loop().call_later(
                self.header_seconds, self._too_slow
            )

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        """No complete headers in time (a fresh connection, or a request begun): close."""
        self._deadline = None
        if self._awaiting_headers():
            self.transport.close()


class _WithAgency:
    """The app, each request's scope carrying the agency of its connection's certificate."""

    def __init__(self, app: Any, agency: str) -> None:
        self.app = app
        self.agency = agency

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.app({**scope, SCOPE_KEY: self.agency}, receive, send)


def _common_name(certificate: dict[str, Any] | None) -> str | None:
    """The subject's common name of a verified peer certificate, if any."""
    for rdn in (certificate or {}).get("subject", ()):
        for name, value in rdn:
            if name == "commonName":
                return str(value)
    return None


def gateway_protocol(header_seconds: float) -> type[H11Protocol]:
    """The protocol class for uvicorn's ``http`` option, with this headers deadline."""
    return type("GatewayProtocol", (_GatewayProtocol,), {"header_seconds": header_seconds})


def tls_options(cert: Path, key: Path, client_ca: Path | None) -> dict[str, Any]:
    """uvicorn ``Config`` arguments for HTTPS; with ``client_ca``, client certificates
    issued by it are asked for and verified (a client without one may still use a token)."""
    options: dict[str, Any] = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    if client_ca is not None:
        options |= {"ssl_ca_certs": str(client_ca), "ssl_cert_reqs": ssl.CERT_OPTIONAL}
    return options
