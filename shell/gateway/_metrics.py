"""The gateway's Prometheus metrics, named as the router's are (``docbus_<component>_…``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from docbus import register_build_info, register_process_metrics

__all__ = ["GatewayMetrics"]

#: Request latency buckets, seconds: a send is milliseconds, a long poll up to a minute.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class GatewayMetrics:
    """Requests by route and code, their latency, and the long polls waiting now."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        register_build_info(self.registry, "gateway")
        register_process_metrics(self.registry)
        self.requests = Counter(
            "docbus_gateway_requests",
            "HTTP requests answered, by route template, method and status code.",
            ["route", "method", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "docbus_gateway_request_seconds",
            "Time to answer a request, by route template and method (long polls included).",
            ["route", "method"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.long_polls = Gauge(
            "docbus_gateway_long_polls_waiting",
            "Inbox requests waiting for a delivery now.",
            registry=self.registry,
        )
        self.documents_sent = Counter(
            "docbus_gateway_documents_sent",
            "Documents sent through the gateway, by the sending agency.",
            ["agency"],
            registry=self.registry,
        )
        self.statuses_posted = Counter(
            "docbus_gateway_statuses_posted",
            "Statuses posted for deliveries, by status code.",
            ["code"],
            registry=self.registry,
        )
