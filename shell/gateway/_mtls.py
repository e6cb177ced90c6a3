"""Mutual TLS for the gateway: an agency's system may present a client certificate
instead of a bearer token. The certificate's subject common name is the agency's party
id, and it must be issued by the gateway's client CA (``--client-ca``).

uvicorn verifies the certificate but does not hand it to the application, so the HTTP
protocol below reads it off each TLS connection and puts the verified agency in the
request's scope under :data:`SCOPE_KEY`.
"""

import ssl
from pathlib import Path
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["SCOPE_KEY", "CertificateIdentityProtocol", "tls_options"]

SCOPE_KEY = "docbus.client_certificate_agency"


class CertificateIdentityProtocol(H11Protocol):
    """uvicorn's h11 protocol that tells the app who a connection's certificate names."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        tls = transport.get_extra_info("ssl_object")
        agency = _common_name(tls.getpeercert()) if tls is not None else None
        if agency:
            self.app = _WithAgency(self.app, agency)


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


def tls_options(cert: Path, key: Path, client_ca: Path | None) -> dict[str, Any]:
    """uvicorn ``Config`` arguments for HTTPS; with ``client_ca``, client certificates
    issued by it are asked for and verified (a client without one may still use a token)."""
    options: dict[str, Any] = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    if client_ca is not None:
        options |= {
            "ssl_ca_certs": str(client_ca),
            "ssl_cert_reqs": ssl.CERT_OPTIONAL,
            "http": CertificateIdentityProtocol,
        }
    return options
