"""The agency side's Prometheus metrics, shared by a Sender and a Receiver of one application.

Pass one :class:`ClientMetrics` to both clients of an agency's system and serve its
registry with :class:`~docbus._metrics.MetricsServer` (``docbus receive --metrics-port``
does). Labels: the top-level agency code, priority and status code, nothing unbounded.
"""

from __future__ import annotations

import datetime as dt
import time

from prometheus_client import CollectorRegistry, Counter, Histogram

from docbus._metrics import LATENCY_BUCKETS, register_build_info

__all__ = ["ClientMetrics"]


class ClientMetrics:
    """Documents and notices an agency sent and received, and how long delivery took."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        register_build_info(self.registry, "client")
        r = self.registry
        self.documents_sent = Counter(
            "docbus_client_documents_sent",
            "Documents the broker acknowledged into the agency's outbox.",
            ["agency", "priority"],
            registry=r,
        )
        self.notices_sent = Counter(
            "docbus_client_notices_sent",
            "Status notices the agency sent.",
            ["agency", "status_code"],
            registry=r,
        )
        self.documents_received = Counter(
            "docbus_client_documents_received",
            "Documents handed to the agency's application (each once).",
            ["agency", "priority"],
            registry=r,
        )
        self.duplicates_skipped = Counter(
            "docbus_client_duplicates_skipped",
            "Redelivered documents the receiver recognised and did not hand over again.",
            ["agency"],
            registry=r,
        )
        self.notices_received = Counter(
            "docbus_client_notices_received",
            "Status notices that reached the agency's inbox.",
            ["agency", "status_code"],
            registry=r,
        )
        self.records_rejected = Counter(
            "docbus_client_records_rejected",
            "Inbox records not handed over: undecodable, or a signature that does not verify.",
            ["agency", "reason"],
            registry=r,
        )
        self.receive_latency = Histogram(
            "docbus_client_receive_latency_seconds",
            "From a document's send time to the receiver taking it from the inbox.",
            ["priority"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    def received(self, agency: str, priority: int, sent_at: dt.datetime) -> None:
        """Count a document handed to the application, and how long it took to arrive."""
        self.documents_received.labels(agency, str(priority)).inc()
        waited = max(0.0, time.time() - sent_at.timestamp())
        self.receive_latency.labels(str(priority)).observe(waited)
