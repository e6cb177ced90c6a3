"""docbus's foundation: settings, the error tree, Kafka clients, keys and trust, lifecycle, metrics, blobs.

Producers, consumers and the router build on what this door names; the agency directory
(``docbus.directory``), the working calendar (``docbus.calendar``), edXML (``docbus.edxml``) and
process housekeeping (``docbus.process``) have doors of their own."""

from docbus._batches import HandedOver, PartitionBatches, produce_in_batches
from docbus._blobs import (
    BLOB_REF_PREFIX,
    BlobStore,
    BlobWriter,
    StoredBlob,
)
from docbus._client_metrics import ClientMetrics
from docbus._doorbell import ExpressDoorbell
from docbus._exceptions import (
    BadMarkerError,
    BlobError,
    BlobNotFoundError,
    BrokerError,
    CalendarRangeError,
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
    UnknownRecipientError,
    UnknownSchemaError,
    UnsafeXmlError,
    ValidationError,
)
from docbus._group_commit import GroupCommit
from docbus._kafka import (
    RecordHeaders,
    connection_options,
    create_missing_topics,
    delete_topics,
    kafka_errors,
    list_topics,
    make_admin,
    make_consumer,
    make_producer,
    start_consumer,
    start_producer,
)
from docbus._keystore import (
    DEFAULT_OVERLAP_DAYS,
    DEFAULT_VALID_DAYS,
    Keystore,
    Signers,
    TrustedKeys,
)
from docbus._lanes import LANES, Lane, lane_names, make_lanes
from docbus._lifecycle import (
    Lifecycle,
    Service,
    State,
)
from docbus._logging import configure_logging, reset_logging
from docbus._metrics import (
    LATENCY_BUCKETS,
    CounterTable,
    HistogramTable,
    MetricsServer,
    register_build_info,
    register_process_metrics,
    register_tables,
    scraped_total,
)
from docbus._outbox import OutboxWriter, SendReceipt
from docbus._ringer import Ringer
from docbus._settings import ENV_PREFIX, Settings, default_home
from docbus._sqlite import SQLITE_LOCK_WAIT_S, open_shared_sqlite
from docbus._threads import KeptThread
from docbus._together import all_finished
from docbus._version import __version__

__all__ = [
    "BLOB_REF_PREFIX",
    "DEFAULT_OVERLAP_DAYS",
    "DEFAULT_VALID_DAYS",
    "ENV_PREFIX",
    "LANES",
    "LATENCY_BUCKETS",
    "SQLITE_LOCK_WAIT_S",
    "BadMarkerError",
    "BlobError",
    "BlobNotFoundError",
    "BlobStore",
    "BlobWriter",
    "BrokerError",
    "CalendarRangeError",
    "ClientMetrics",
    "ClientStateError",
    "CodecError",
    "ConfigurationError",
    "CounterTable",
    "DeliveryError",
    "DeliveryRejected",
    "DeliveryTimeout",
    "DirectoryError",
    "DocbusError",
    "EdxmlError",
    "EmbeddedBrokerError",
    "ExpressDoorbell",
    "GroupCommit",
    "HandedOver",
    "HistogramTable",
    "InvalidDocumentError",
    "InvalidNoticeError",
    "KeptThread",
    "Keystore",
    "Lane",
    "Lifecycle",
    "MalformedAgencyCodeError",
    "MalformedRecordError",
    "MetricsServer",
    "OutboxWriter",
    "PartitionBatches",
    "RecordHeaders",
    "Ringer",
    "RouterError",
    "RoutingRejected",
    "SendReceipt",
    "Service",
    "Settings",
    "SignatureError",
    "Signers",
    "State",
    "StoredBlob",
    "TrustedKeys",
    "UnknownAgencyError",
    "UnknownRecipientError",
    "UnknownSchemaError",
    "UnsafeXmlError",
    "ValidationError",
    "__version__",
    "all_finished",
    "configure_logging",
    "connection_options",
    "create_missing_topics",
    "default_home",
    "delete_topics",
    "kafka_errors",
    "lane_names",
    "list_topics",
    "make_admin",
    "make_consumer",
    "make_lanes",
    "make_producer",
    "open_shared_sqlite",
    "produce_in_batches",
    "register_build_info",
    "register_process_metrics",
    "register_tables",
    "reset_logging",
    "scraped_total",
    "start_consumer",
    "start_producer",
]
