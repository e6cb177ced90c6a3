"""The XML-DSig signature of an edXML header: kept as XML text, and checked where it can be.

A signature verifies when its certificate (``KeyInfo/X509Data/X509Certificate``) is in the
file: the digests and the signature value are checked against that certificate's key. The
certificate's chain of trust is not: docbus keeps no national CA bundle, so "valid" means
"this file is what the holder of this certificate signed", and the subject is reported.
SHA-1 is accepted (the national SDK signs with RSA-SHA1) and said so in the report.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from lxml import etree
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidInput, InvalidSignature
from signxml.verifier import SignatureConfiguration, XMLVerifier

from docbus.edxml._tree import with_usual_prefixes

__all__ = ["XMLDSIG_NS", "SignatureCheck", "SignatureStatus", "check_signature"]

XMLDSIG_NS = "http://www.w3.org/2000/09/xmldsig#"

SignatureStatus = Literal["absent", "valid", "invalid", "no-certificate"]

_ANY_ALGORITHM = SignatureConfiguration(
    require_x509=True,
    location=".//",
    expect_references=True,
    signature_methods=frozenset(SignatureMethod),
    digest_algorithms=frozenset(DigestAlgorithm),
)


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """What import found of the header's signature; ``xml`` is the Signature element."""

    status: SignatureStatus
    detail: str = ""
    xml: str | None = None
    certificate_subject: str | None = None


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True, remove_pis=False
    )


def check_signature(source: Path | bytes) -> SignatureCheck:
    """Find the first ``ds:Signature`` in ``source`` and verify it if its certificate is there.

    ``source`` has already passed the defused parser (no DTD entities), and lxml runs with
    network and entity loading off.
    """
    data = source.read_bytes() if isinstance(source, Path) else source
    try:
        tree = etree.fromstring(data, parser=_safe_parser())
    except etree.XMLSyntaxError:  # an undeclared xlink/edXML prefix, as the import allows
        data = with_usual_prefixes(data)
        tree = etree.fromstring(data, parser=_safe_parser())
    signature = tree.find(f".//{{{XMLDSIG_NS}}}Signature")
    if signature is None:
        return SignatureCheck("absent")
    # exclusive canonical form: only the namespaces it uses, the same wherever it sits
    xml = etree.tostring(signature, method="c14n", exclusive=True).decode("utf-8")
    cert_text = signature.findtext(f".//{{{XMLDSIG_NS}}}X509Certificate")
    if not cert_text or not cert_text.strip():
        return SignatureCheck(
            "no-certificate", "the signature carries no X509Certificate to verify with", xml
        )
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode("".join(cert_text.split())))
    except ValueError as exc:
        return SignatureCheck("invalid", f"its X509Certificate cannot be read: {exc}", xml)
    subject = certificate.subject.rfc4514_string()
    try:
        XMLVerifier().verify(
            data, x509_cert=certificate, parser=_safe_parser(), expect_config=_ANY_ALGORITHM
        )
    except (InvalidSignature, InvalidInput) as exc:
        return SignatureCheck("invalid", str(exc), xml, subject)
    method = signature.find(f".//{{{XMLDSIG_NS}}}SignatureMethod")
    algorithm = method.get("Algorithm", "") if method is not None else ""
    weak = " (SHA-1: weak, accepted as the national SDK uses it)" if "sha1" in algorithm else ""
    return SignatureCheck(
        "valid", f"verified with the certificate in the file{weak}; chain not checked", xml, subject
    )
