"""The routing core: validation, directory lookup, fan-out, dead letters, and the bus's topics and ACLs."""

from router._acls import (
    Acl,
    Principal,
    bus_principals,
    kafka_acls_script,
    strimzi_users,
)
from router._dead_letters import DeadLetter, recent_dead_letters
from router._directory_feed import (
    COMPACTED,
    HEADER_DIRECTORY_VERSION,
    DirectoryCallback,
    DirectoryFollower,
    publish_directory,
)
from router._lag import group_lag
from router._lanes import producer_linger_ms
from router._manifest import DEADLETTER_RETENTION_MS, strimzi_topics
from router._metrics import RouterMetrics
from router._routing import (
    IncomingRecord,
    Outgoing,
    Routed,
    RoutingCore,
)
from router._service import Router, RouterStats
from router._topics import ensure_bus_topics

__all__ = [
    "COMPACTED",
    "DEADLETTER_RETENTION_MS",
    "HEADER_DIRECTORY_VERSION",
    "Acl",
    "DeadLetter",
    "DirectoryCallback",
    "DirectoryFollower",
    "IncomingRecord",
    "Outgoing",
    "Principal",
    "Routed",
    "Router",
    "RouterMetrics",
    "RouterStats",
    "RoutingCore",
    "bus_principals",
    "ensure_bus_topics",
    "group_lag",
    "kafka_acls_script",
    "producer_linger_ms",
    "publish_directory",
    "recent_dead_letters",
    "strimzi_topics",
    "strimzi_users",
]
