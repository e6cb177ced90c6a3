"""docbus: the document-interconnection bus (shell package: settings, errors, embedded broker)."""

from docbus._blobs import BlobStore, StoredBlob
from docbus._broker import EmbeddedBroker, free_port
from docbus._client_metrics import ClientMetrics
from docbus._exceptions import (
    BadMarkerError,
    BlobError,
    BlobNotFoundError,
    BrokerError,
    ClientStateError,
    CodecError,
    ConfigurationError,
    DeliveryError,
    DeliveryRejected,
    DeliveryTimeout,
    DirectoryError,
    DocbusError,
    EdxmlError,
    EmbeddedBrokerError,
    InvalidDocumentError,
    InvalidNoticeError,
    MalformedAgencyCodeError,
    MalformedRecordError,
    RouterError,
    RoutingRejected,
    SignatureError,
    UnknownAgencyError,
    UnknownSchemaError,
    UnsafeXmlError,
    ValidationError,
)
from docbus._lifecycle import Lifecycle, State
from docbus._metrics import MetricsServer
from docbus._settings import Settings

__version__ = "0.1.0"

__all__ = [
    "BadMarkerError",
    "BlobError",
    "BlobNotFoundError",
    "BlobStore",
    "BrokerError",
    "ClientMetrics",
    "ClientStateError",
    "CodecError",
    "ConfigurationError",
    "DeliveryError",
    "DeliveryRejected",
    "DeliveryTimeout",
    "DirectoryError",
    "DocbusError",
    "EdxmlError",
    "EmbeddedBroker",
    "EmbeddedBrokerError",
    "InvalidDocumentError",
    "InvalidNoticeError",
    "Lifecycle",
    "MalformedAgencyCodeError",
    "MalformedRecordError",
    "MetricsServer",
    "RouterError",
    "RoutingRejected",
    "Settings",
    "SignatureError",
    "State",
    "StoredBlob",
    "UnknownAgencyError",
    "UnknownSchemaError",
    "UnsafeXmlError",
    "ValidationError",
    "__version__",
    "free_port",
]
