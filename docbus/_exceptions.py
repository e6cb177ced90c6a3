"""The docbus exception tree.

Every error docbus raises derives from :class:`DocbusError`; errors of the libraries
below it (aiokafka, fastavro, sqlite3) are translated at the boundary with
``raise ... from exc`` so callers only ever catch docbus's own types::

    DocbusError
    ├── ConfigurationError            a setting is missing or inconsistent
    ├── ClientStateError              a client opened twice or used when not open
    ├── BrokerError  (.retriable)     the Kafka-protocol broker failed a request
    │   └── EmbeddedBrokerError       the embedded Tansu broker could not run
    ├── CodecError                    bytes that are not a docbus record
    │   ├── BadMarkerError            not Avro single-object encoding
    │   ├── UnknownSchemaError        a fingerprint no schema in schemas/ has
    │   └── MalformedRecordError      truncated, corrupt or trailing bytes
    ├── SignatureError  (.kind)       a record's signature is missing, unknown, expired or wrong
    ├── ValidationError  (.problems)  a decoded record breaks the edXML rules
    │   ├── InvalidDocumentError
    │   └── InvalidNoticeError
    ├── DirectoryError                agency-directory lookups
    │   ├── MalformedAgencyCodeError
    │   └── UnknownAgencyError
    ├── RouterError                   the routing core
    │   └── RoutingRejected (.reason) a record the router will not deliver
    ├── DeliveryError                 what a sender waited for did not happen
    │   ├── DeliveryRejected          a recipient (or the bus) rejected the document
    │   └── DeliveryTimeout           the awaited status did not come in time
    ├── BlobError                     the attachment blob store
    │   └── BlobNotFoundError         no blob under that reference
    └── EdxmlError  (.element)        an edXML file that cannot be imported or written
        └── UnsafeXmlError            a DTD, entity or external reference (refused, never fetched)
"""

from __future__ import annotations

__all__ = [
    "BadMarkerError",
    "BlobError",
    "BlobNotFoundError",
    "BrokerError",
    "ClientStateError",
    "CodecError",
    "ConfigurationError",
    "DeliveryError",
    "DeliveryRejected",
    "DeliveryTimeout",
    "DirectoryError",
    "DocbusError",
    "EdxmlError",
    "EmbeddedBrokerError",
    "InvalidDocumentError",
    "InvalidNoticeError",
    "MalformedAgencyCodeError",
    "MalformedRecordError",
    "RouterError",
    "RoutingRejected",
    "SignatureError",
    "UnknownAgencyError",
    "UnknownSchemaError",
    "UnsafeXmlError",
    "ValidationError",
]


class DocbusError(Exception):
    """Root of every error docbus raises."""

    retriable: bool = False


class ConfigurationError(DocbusError):
    """A setting is missing, malformed or inconsistent with another."""


class ClientStateError(DocbusError):
    """A client was opened twice, or used before it was opened or after it closed."""


class BrokerError(DocbusError):
    """The Kafka-protocol broker failed a request; ``retriable`` says whether to retry."""

    def __init__(self, message: str, *, retriable: bool = False) -> None:
        super().__init__(message)
        self.retriable = retriable


class EmbeddedBrokerError(BrokerError):
    """The embedded Tansu broker could not be found, started or reached."""


class CodecError(DocbusError):
    """Bytes that cannot be decoded as a docbus record, or a value that cannot be encoded."""

    #: Short, bounded name of the failure, used as the dead-letter reason class.
    kind: str = "codec"


class BadMarkerError(CodecError):
    """The bytes do not start with the Avro single-object marker ``C3 01``."""

    kind = "bad_marker"


class UnknownSchemaError(CodecError):
    """The record's schema fingerprint matches no schema version kept in schemas/."""

    kind = "unknown_schema"


class MalformedRecordError(CodecError):
    """The record body is truncated, corrupt, or followed by stray bytes."""

    kind = "malformed"


class SignatureError(DocbusError):
    """A record's signature does not prove its sender; ``kind`` is the bounded reason."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class ValidationError(DocbusError):
    """A decoded record breaks the edXML rules; ``problems`` lists every rule broken."""

    kind: str = "invalid"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class InvalidDocumentError(ValidationError):
    """A document breaks the edXML rules (recipients, priority, lengths, codes)."""

    kind = "invalid_document"


class InvalidNoticeError(ValidationError):
    """A status notice breaks the edXML rules (status code, parties, lengths)."""

    kind = "invalid_notice"


class DirectoryError(DocbusError):
    """An agency-directory lookup failed."""


class MalformedAgencyCodeError(DirectoryError):
    """A string that is not an agency code of the form ``V1V2V3.Z1Z2.Y1Y2.MX1X2``."""


class UnknownAgencyError(DirectoryError):
    """A well-formed agency code that the directory does not know."""


class RouterError(DocbusError):
    """The routing core failed."""


class RoutingRejected(RouterError):
    """The router will not deliver a record; ``reason`` is a bounded dead-letter class."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class DeliveryError(DocbusError):
    """What a sender waited for did not happen."""


class DeliveryRejected(DeliveryError):
    """A recipient, or the bus itself, rejected the document (status 02)."""

    def __init__(self, document_id: str, by: str, description: str) -> None:
        super().__init__(f"{document_id} rejected by {by}: {description}")
        self.document_id = document_id
        self.by = by
        self.description = description


class DeliveryTimeout(DeliveryError):
    """The awaited status did not come from every recipient in time."""

    retriable = True


class BlobError(DocbusError):
    """The attachment blob store failed (unreadable, corrupt, or a bad reference)."""


class BlobNotFoundError(BlobError):
    """No blob is stored under the reference asked for."""


class EdxmlError(DocbusError):
    """An edXML file that cannot be imported or written; ``element`` names where, if known."""

    def __init__(self, message: str, *, element: str | None = None) -> None:
        super().__init__(f"{element}: {message}" if element else message)
        self.element = element


class UnsafeXmlError(EdxmlError):
    """XML with a DTD, an entity declaration or an external reference: refused, never fetched."""
