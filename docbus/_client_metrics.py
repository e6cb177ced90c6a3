"""The agency side's Prometheus metrics, shared by a Sender and a Receiver of one application.

Pass one :class:`ClientMetrics` to both clients of an agency's system and serve its
registry with :class:`~docbus._metrics.MetricsServer` (``docbus receive --metrics-port``
does). Labels: the top-level agency code, priority and status code, nothing unbounded.
"""

from __future__ import annotations

import datetime as dt
import time

from prometheus_client import CollectorRegistry

from docbus._metrics import (
    CounterTable,
    HistogramTable,
    register_build_info,
    register_process_metrics,
    register_tables,
)

__all__ = ["ClientMetrics"]


class ClientMetrics:
    """Documents and notices an agency sent and received, and how long delivery took.

    The clients count every record, so the counts are plain tables (as the router's):
    written by the clients' event loop, read at each scrape from any thread.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        """In ``registry`` (the application's: prometheus-client's default one already has
        the process's own series), or in a registry of its own with those series added,
        as a router's and the gateway's have them."""
        if registry is None:
            registry = CollectorRegistry()
            register_process_metrics(registry)
        self.registry = registry
        register_build_info(self.registry, "client")
        self.documents_sent = CounterTable(
            "docbus_client_documents_sent",
            "Documents the broker acknowledged into the agency's outbox.",
            ["agency", "priority"],
        )
        self.notices_sent = CounterTable(
            "docbus_client_notices_sent",
            "Status notices the agency sent.",
            ["agency", "status_code"],
        )
        self.documents_received = CounterTable(
            "docbus_client_documents_received",
            "Documents handed to the agency's application (each once).",
            ["agency", "priority"],
        )
        self.duplicates_skipped = CounterTable(
            "docbus_client_duplicates_skipped",
            "Redelivered documents the receiver recognised and did not hand over again.",
            ["agency"],
        )
        self.notices_received = CounterTable(
            "docbus_client_notices_received",
            "Status notices that reached the agency's inbox.",
            ["agency", "status_code"],
        )
        self.records_rejected = CounterTable(
            "docbus_client_records_rejected",
            "Inbox records not handed over: undecodable, or a signature that does not verify.",
            ["agency", "reason"],
        )
        self.receive_latency = HistogramTable(
            "docbus_client_receive_latency_seconds",
            "From a document's send time to the receiver taking it from the inbox.",
            ["priority"],
        )
        register_tables(
            self.registry,
            [
                self.documents_sent,
                self.notices_sent,
                self.documents_received,
                self.duplicates_skipped,
                self.notices_received,
                self.records_rejected,
                self.receive_latency,
            ],
        )

    def received(self, agency: str, priority: int, sent_at: dt.datetime) -> None:
        """Count a document handed to the application, and how long it took to arrive."""
        self.documents_received.values[(agency, str(priority))] += 1
        waited = max(0.0, time.time() - sent_at.timestamp())
        self.receive_latency.observe((str(priority),), waited)
