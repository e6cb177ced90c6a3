"""Sign edXML files the way an agency's system does: an enveloped XML-DSig in the header."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import DigestAlgorithm, SignatureMethod

XMLDSIG = "http://www.w3.org/2000/09/xmldsig#"


def agency_certificate(common_name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A self-signed certificate for an agency's signing key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def sign_edxml(
    data: bytes, key: rsa.RSAPrivateKey, cert: x509.Certificate, *, with_certificate: bool = True
) -> bytes:
    """``data`` with an enveloped signature over the whole message, placed in edXMLHeader."""
    root = etree.fromstring(data)
    header = root.find(".//{*}edXMLHeader")
    assert header is not None
    etree.SubElement(header, f"{{{XMLDSIG}}}Signature", Id="placeholder")
    signed = XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256, digest_algorithm=DigestAlgorithm.SHA256
    ).sign(root, key=key, cert=[cert] if with_certificate else None, always_add_key_value=True)
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))
