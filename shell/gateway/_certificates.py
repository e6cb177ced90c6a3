"""A small certificate authority for the gateway's mutual TLS: the CA, the gateway's own
server certificate, and one client certificate per agency system (its party id as the
subject's common name). A ministry with its own PKI uses that instead: the gateway only
needs the CA certificate (``--client-ca``) and certificates whose common name is the id."""

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertificateAuthority", "IssuedCertificate"]

_CA_DAYS = 3650
_LEAF_DAYS = 397  # what browsers accept for a server certificate; agencies renew yearly
#: A CA that signs certificates (and revocation lists) and nothing else.
_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """A certificate and its private key, as PEM files."""

    cert: Path
    key: Path


class CertificateAuthority:
    """The CA in ``directory`` (``ca.crt``, ``ca.key``), made on first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.cert_path = directory / "ca.crt"
        self._key_path = directory / "ca.key"
        if not self.cert_path.exists():
            self._create()
        self._cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        key = serialization.load_pem_private_key(self._key_path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        self._key = key

    def client(self, agency: str) -> IssuedCertificate:
        """A client certificate for ``agency``'s system (``<agency>.crt`` and ``.key``)."""
        usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
        return self._issue(agency, agency, [usage], [])

    def server(self, hosts: list[str]) -> IssuedCertificate:
        """The gateway's server certificate for ``hosts`` (names or IP addresses)."""
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
        return self._issue("gateway", hosts[0], [usage], names)

    def _issue(
        self,
        file_stem: str,
        common_name: str,
        extensions: list[x509.ExtensionType],
        names: list[x509.GeneralName],
    ) -> IssuedCertificate:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=_LEAF_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        for extension in extensions:
            builder = builder.add_extension(extension, critical=False)
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        issued = IssuedCertificate(
            self.directory / f"{file_stem}.crt", self.directory / f"{file_stem}.key"
        )
        _write_key(issued.key, key)
        cert = builder.sign(self._key, hashes.SHA256())
        issued.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return issued

    def _create(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "docbus gateway client CA")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=_CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_CA_KEY_USAGE, critical=True)
            .sign(key, hashes.SHA256())
        )
        _write_key(self._key_path, key)
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """``key`` as unencrypted PKCS#8 PEM, readable by its owner only."""
    path.touch(mode=0o600, exist_ok=True)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
