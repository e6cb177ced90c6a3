"""edXML in: a document message becomes a :class:`Document`, a status message a
:class:`StatusNotice`, recognised by content rather than by the first element's name.

Shapes met in real files (``tests/data/edxml/real``) and what the bus does with them:

- a status as a ``MessageHeader`` with ``StatusCode``/``ResponseFor``/``Timestamp`` (the
  national SDK's samples) or as a ``Status`` element: both read as a notice; a recall (13)
  may name the recipient in ``ResponseFor/OrganId``;
- trace entries without ``OrganId`` (kept with an empty id), with ``OrganId`` ``null``
  (kept as written) or without a ``Timestamp`` (kept as written, not a hop), or no
  ``TraceHeaderList`` at all (one hop, the sender's, at import time);
- party ids outside the national scheme (``vxp.saas.03``, ``020100107370``, ``G12``,
  ``28.22.H17``) and document ids that are UUIDs or a gateway's own (``GW-…``), kept as
  given; the directory decides whether a party exists and resolves aliases;
- an empty ``<ResponseFor />`` or one with empty children: absent;
- the target of a revoke/update in ``Bussiness/DocumentId`` or in
  ``ResponseFor/DocumentId``; of a replace in ``ReplacementInfoList``;
- attachments in ``AttachmentEncoded`` (with or without the ``edXML:`` prefix) or in a
  gateway's ``edXMLEnvelope/edXMLAttachments/Attachment/AttachmentData``;
- ``xlink:href`` on manifest references with the ``xlink`` prefix never declared (the
  SDK's sample): read with the standard declaration;
- a ``Signature`` outside the XML-DSig namespace: not checked, kept as written.

Refused, each with its reason and the element and line: malformed XML (a mismatched tag,
text before the XML declaration, an undeclared prefix other than ``xlink``), a DTD with
entities, no sender, no recipient on a document, a duplicate recipient, a missing
``Code`` or ``PromulgationDate``, bad base64, an attachment the manifest lists but no
element carries. What the bus does not model is kept in ``extensions`` and written back
by the export (:mod:`docbus.edxml._extensions`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from docbus._blobs import BlobStore
from docbus._exceptions import EdxmlError
from docbus.edxml._read_document import read_document
from docbus.edxml._read_status import read_status
from docbus.edxml._signature import XMLDSIG_NS, SignatureCheck, check_signature
from docbus.edxml._tree import Element, read_tree
from schemas import Document, StatusNotice

__all__ = ["EDXML_NS", "ImportedDocument", "ImportedMessage", "ImportedStatus", "import_edxml"]

EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"


@dataclass(frozen=True, slots=True)
class ImportedDocument:
    """A document message read from ``source``, with what was found of its signature."""

    document: Document
    signature: SignatureCheck
    source: str


@dataclass(frozen=True, slots=True)
class ImportedStatus:
    """A status message read from ``source``, with what was found of its signature."""

    notice: StatusNotice
    signature: SignatureCheck
    source: str


ImportedMessage = ImportedDocument | ImportedStatus


def import_edxml(
    source: Path | bytes, *, blobs: BlobStore, now: dt.datetime | None = None
) -> ImportedMessage:
    """Read one edXML file: a status message if its header carries a status, else a
    document message.

    Attachments are decoded into ``blobs`` and referenced by SHA-256. ``now`` stamps the
    hop of a document whose file has no trace (default: the current time).
    """
    name = str(source) if isinstance(source, Path) else "<bytes>"
    root = read_tree(source, blobs)
    signature = check_signature(source) if _has_signature(root) else SignatureCheck("absent")
    status = root.find("Status")
    if status is not None:
        return ImportedStatus(read_status(status), signature, name)
    header = root.find("MessageHeader")
    if header is not None and header.child("StatusCode") is not None:
        return ImportedStatus(read_status(header), signature, name)
    if header is not None:
        moment = now if now is not None else dt.datetime.now(dt.UTC)
        document = read_document(root, header, signature.xml, moment)
        return ImportedDocument(document, signature, name)
    raise EdxmlError(
        "neither a document message (no MessageHeader) nor a status message (no Status)",
        element=root.where(),
    )


def _has_signature(root: Element) -> bool:
    if root.name == "Signature" and root.namespace == XMLDSIG_NS:
        return True
    return any(_has_signature(c) for c in root.children if c.name != "AttachmentEncoded")
