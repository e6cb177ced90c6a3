"""The routing core: validation, directory lookup, fan-out, dead letters."""

from router._metrics import RouterMetrics
from router._routing import IncomingRecord, Outgoing, Routed, RoutingCore
from router._service import Router, RouterStats

__all__ = [
    "IncomingRecord",
    "Outgoing",
    "Routed",
    "Router",
    "RouterMetrics",
    "RouterStats",
    "RoutingCore",
]
