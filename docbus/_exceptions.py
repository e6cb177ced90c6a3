"""The docbus exception tree: the contract's errors (from ``schemas``) and those of the parts above.

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
    │       └── UnknownRecipientError     a sender named a recipient nobody receives for
    ├── RouterError                   the routing core
    │   └── RoutingRejected (.reason) a record the router will not deliver
    ├── DeliveryError                 what a sender waited for did not happen
    │   ├── DeliveryRejected          a recipient (or the bus) rejected the document
    │   └── DeliveryTimeout           the awaited status did not come in time
    ├── CalendarRangeError            a day past the working calendar's holiday data
    ├── BlobError                     the attachment blob store
    │   └── BlobNotFoundError         no blob under that reference
    └── EdxmlError  (.element)        an edXML file that cannot be imported or written
        └── UnsafeXmlError            a DTD, entity or external reference (refused, never fetched)
"""

from __future__ import annotations

import datetime as dt

from schemas import (
    BadMarkerError,
    CodecError,
    ConfigurationError,
    DirectoryError,
    DocbusError,
    InvalidDocumentError,
    InvalidNoticeError,
    MalformedAgencyCodeError,
    MalformedRecordError,
    SignatureError,
    UnknownAgencyError,
    UnknownSchemaError,
    ValidationError,
)

__all__ = [
    "BadMarkerError",
    "BlobError",
    "BlobNotFoundError",
    "BrokerError",
    "CalendarRangeError",
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
    "UnknownRecipientError",
    "UnknownSchemaError",
    "UnsafeXmlError",
    "ValidationError",
]


class UnknownRecipientError(UnknownAgencyError):
    """A document names a recipient that no open agency receives for on its send date:
    an unknown code, a group that does not exist, or an agency closed without successor."""

    def __init__(self, recipient: str, detail: str) -> None:
        super().__init__(f"recipient {recipient}: {detail}")
        self.recipient = recipient


class ClientStateError(DocbusError):
    """A client was opened twice, or used before it was opened or after it closed."""


class BrokerError(DocbusError):
    """The Kafka-protocol broker failed a request; ``retriable`` says whether to retry."""

    def __init__(self, message: str, *, retriable: bool = False) -> None:
        super().__init__(message)
        self.retriable = retriable


class EmbeddedBrokerError(BrokerError):
    """The embedded Tansu broker could not be found, started or reached."""


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


class CalendarRangeError(DocbusError):
    """A day outside the years the working calendar has holiday data for.

    Raised instead of assuming a working day: a deadline on such a day would be wrong.
    """

    def __init__(self, day: dt.date, first: dt.date, last: dt.date) -> None:
        super().__init__(
            f"the working calendar covers {first} to {last}, not {day}: "
            "extend docbus/calendar/holidays.json (covered_years) and update docbus"
        )
        self.day = day


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
