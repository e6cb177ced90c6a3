"""The contract's errors: what reading, checking and signing records can raise.

The root of docbus's whole exception tree lives here, at the bottom floor, so that the
contract imports nothing of the project; ``docbus`` extends this tree with the errors of
the parts above (brokers, routing, delivery, blobs, edXML)::

    DocbusError
    ├── ConfigurationError            a setting is missing or inconsistent
    ├── CodecError                    bytes that are not a docbus record
    │   ├── BadMarkerError            not Avro single-object encoding
    │   ├── UnknownSchemaError        a fingerprint no schema in schemas/ has
    │   └── MalformedRecordError      truncated, corrupt or trailing bytes
    ├── SignatureError  (.kind)       a record's signature is missing, unknown, expired or wrong
    ├── ValidationError  (.problems)  a decoded record breaks the edXML rules
    │   ├── InvalidDocumentError
    │   └── InvalidNoticeError
    └── DirectoryError                agency-directory lookups
        ├── MalformedAgencyCodeError
        └── UnknownAgencyError
"""

from __future__ import annotations

__all__ = [
    "BadMarkerError",
    "CodecError",
    "ConfigurationError",
    "DirectoryError",
    "DocbusError",
    "InvalidDocumentError",
    "InvalidNoticeError",
    "MalformedAgencyCodeError",
    "MalformedRecordError",
    "SignatureError",
    "UnknownAgencyError",
    "UnknownSchemaError",
    "ValidationError",
]


class DocbusError(Exception):
    """Root of every error docbus raises."""

    retriable: bool = False


class ConfigurationError(DocbusError):
    """A setting is missing, malformed or inconsistent with another."""


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
