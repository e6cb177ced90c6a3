"""Transport settings: TLS (mutual TLS included) and SASL, and the bus over TLS for real.

Tansu 0.6 takes ``--cert``/``--key`` but refuses the two together, and with a combined
PEM through ``--cert`` its listener still speaks plaintext (a TLS ClientHello ends in
"early eof"). So the TLS test puts a TLS-terminating proxy (Python's ``ssl``, requiring
a client certificate signed by the test CA) in front of an embedded broker that
advertises the proxy's port: every byte docbus sends goes through a real TLS 1.3 session,
and a client without a certificate, or trusting another CA, is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from consumers import Receiver
from docbus import (
    BrokerError,
    ConfigurationError,
    Settings,
    connection_options,
    create_missing_topics,
)
from producers import Sender
from router import Router
from shell import EmbeddedBroker, free_port
from tests.helpers import G22, H29, ensure_topics, letter, take

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"security_protocol": "TLS"}, "security_protocol must be one of"),
        ({"security_protocol": "SASL_SSL"}, "needs sasl_mechanism"),
        (
            {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512"},
            "needs sasl_username and sasl_password",
        ),
        ({"sasl_username": "g22"}, "SASL settings are given but security_protocol is PLAINTEXT"),
        ({"ssl_cafile": Path("ca.pem")}, "TLS files are given but security_protocol is PLAINTEXT"),
        (
            {"security_protocol": "SSL", "ssl_certfile": Path("c.pem")},
            "ssl_certfile and ssl_keyfile go together",
        ),
    ],
)
def test_inconsistent_transport_settings_are_refused(changes: dict, message: str) -> None:  # type: ignore[type-arg]
    """Each half-configured transport is a configuration error that says what is missing."""
    with pytest.raises(ConfigurationError, match=message):
        Settings(**changes)


def test_sasl_settings_reach_the_clients_and_the_password_stays_out_of_logs() -> None:
    """SCRAM over TLS: aiokafka gets mechanism, user and password; repr shows no password."""
    settings = Settings(
        bootstrap_servers="kafka:9093",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="agency-000.00.00.G22",
        sasl_password="s3cret-value",
    )
    options = connection_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "agency-000.00.00.G22"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED
    assert "s3cret-value" not in repr(settings)


def test_transport_settings_come_from_the_environment() -> None:
    """DOCBUS_SECURITY_PROTOCOL and friends, as a container gets them."""
    settings = Settings.from_env(
        {
            "DOCBUS_SECURITY_PROTOCOL": "SASL_SSL",
            "DOCBUS_SASL_MECHANISM": "SCRAM-SHA-256",
            "DOCBUS_SASL_USERNAME": "router",
            "DOCBUS_SASL_PASSWORD": "pw",
            "DOCBUS_SSL_CAFILE": "/etc/docbus/tls/ca.crt",
        }
    )
    assert settings.ssl_cafile == Path("/etc/docbus/tls/ca.crt")
    assert settings.sasl_mechanism == "SCRAM-SHA-256"


# -- the bus over TLS ------------------------------------------------------------------


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(
    subject: str,
    issuer_key: ec.EllipticCurvePrivateKey | None,
    issuer: str,
    *,
    ca: bool,
    server: bool = False,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        import ipaddress

        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return key, builder.sign(issuer_key or key, hashes.SHA256())


def _write(
    folder: Path, name: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate
) -> tuple[Path, Path]:
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, the broker's certificate (127.0.0.1), a client certificate, and another CA."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key, ca = _certificate("docbus test CA", None, "docbus test CA", ca=True)
    server_key, server = _certificate("broker", ca_key, "docbus test CA", ca=False, server=True)
    client_key, client = _certificate("000.00.00.G22", ca_key, "docbus test CA", ca=False)
    other_key, other = _certificate("another CA", None, "another CA", ca=True)
    paths = {}
    paths["ca"], _ = _write(folder, "ca", ca_key, ca)
    paths["server_cert"], paths["server_key"] = _write(folder, "server", server_key, server)
    paths["client_cert"], paths["client_key"] = _write(folder, "client", client_key, client)
    paths["other_ca"], _ = _write(folder, "other", other_key, other)
    return paths


@contextlib.asynccontextmanager
async def tls_proxy(pki: dict[str, Path], port: int, upstream: int) -> AsyncIterator[list[str]]:
    """A TLS endpoint on ``port`` that requires a client certificate and forwards to
    ``upstream``; yields the common names of the clients it let in."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki["ca"]))
    context.load_cert_chain(str(pki["server_cert"]), str(pki["server_key"]))
    context.verify_mode = ssl.CERT_REQUIRED
    clients: list[str] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert") or {}
        clients.extend(v for rdn in peer.get("subject", ()) for k, v in rdn if k == "commonName")
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", port, ssl=context)
    try:
        yield clients
    finally:
        server.close()


@pytest.fixture(scope="module")
async def tls_bus(pki: dict[str, Path]) -> AsyncIterator[tuple[str, list[str]]]:
    """An embedded broker reachable only through the mutual-TLS proxy: its address, and
    the clients the proxy let in."""
    proxy_port = free_port()
    async with (
        EmbeddedBroker(advertised_port=proxy_port) as broker,
        tls_proxy(pki, proxy_port, int(broker.bootstrap_servers.rsplit(":", 1)[1])) as clients,
    ):
        yield f"127.0.0.1:{proxy_port}", clients


def _tls(settings: Settings, address: str, pki: dict[str, Path], **changes: object) -> Settings:
    tls = {
        "bootstrap_servers": address,
        "security_protocol": "SSL",
        "ssl_cafile": pki["ca"],
        "ssl_certfile": pki["client_cert"],
        "ssl_keyfile": pki["client_key"],
    }
    return settings.replace(**{**tls, **changes})


async def test_the_bus_runs_over_mutual_tls(
    settings: Settings, tls_bus: tuple[str, list[str]], pki: dict[str, Path]
) -> None:
    """Router, sender and receiver all over mutual TLS: the document arrives; the proxy
    saw the client certificate's name."""
    address, clients = tls_bus
    secure = _tls(settings, address, pki)
    await ensure_topics(secure, [G22, H29])
    async with (
        Router(settings=secure),
        Sender(agency=G22, settings=secure) as sender,
        Receiver(agency=H29, settings=secure) as h29,
    ):
        doc = letter(G22, (H29,))
        await sender.send(doc)
        (received,) = await take(h29, 1)
    assert received.document == doc
    assert set(clients) == {"000.00.00.G22"}


async def test_a_client_without_a_certificate_is_refused(
    settings: Settings, tls_bus: tuple[str, list[str]], pki: dict[str, Path]
) -> None:
    """No client certificate: the TLS handshake fails, docbus says so as a BrokerError."""
    address, clients = tls_bus
    admitted = list(clients)
    anonymous = _tls(settings, address, pki, ssl_certfile=None, ssl_keyfile=None)
    anonymous = anonymous.replace(request_timeout_ms=3000)
    with pytest.raises(BrokerError, match="KafkaConnectionError"):
        await create_missing_topics(anonymous, [f"{settings.topic_prefix}.x"])
    assert clients == admitted  # the proxy let no one new in


async def test_a_broker_signed_by_another_ca_is_not_trusted(
    settings: Settings, tls_bus: tuple[str, list[str]], pki: dict[str, Path]
) -> None:
    """The client checks the broker: a certificate from a CA it does not trust, refused."""
    address, clients = tls_bus
    admitted = list(clients)
    wary = _tls(settings, address, pki, ssl_cafile=pki["other_ca"], request_timeout_ms=3000)
    with pytest.raises(BrokerError, match="KafkaConnectionError"):
        await create_missing_topics(wary, [f"{settings.topic_prefix}.x"])
    assert clients == admitted
