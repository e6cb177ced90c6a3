"""The router's Prometheus metrics, with labels kept bounded.

Labels are the priority, the edXML document type, the dead-letter reason, the status code
and the top-level agency code (about a hundred values), never a document id or a sub-unit.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence

from prometheus_client import CollectorRegistry, Gauge, Info

from docbus import (
    CounterTable,
    HistogramTable,
    register_build_info,
    register_process_metrics,
    register_tables,
)
from docbus.directory import Directory
from router._routing import Routed
from schemas import VN_TIME

__all__ = ["RouterMetrics"]


class RouterMetrics:
    """Every series one router instance exports, in a registry of its own.

    The per-record series are plain counts written by the router's event loop and
    collected by the same loop (the metrics server runs in it): no lock per record.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        register_build_info(self.registry, "router")
        register_process_metrics(self.registry)
        r = self.registry
        self.documents_routed = CounterTable(
            "docbus_documents_routed",
            "Documents routed to their recipients.",
            ["sender", "priority", "document_type"],
        )
        self.deliveries = CounterTable(
            "docbus_deliveries",
            "Deliveries written to a recipient agency's inbox (one per recipient unit).",
            ["recipient", "priority"],
        )
        self.redirects = CounterTable(
            "docbus_redirects",
            "Recipients that had closed and were redirected to their successor (status 90).",
            [],
        )
        self.dead_letters = CounterTable(
            "docbus_dead_letters",
            "Records refused to the dead-letter topic, by reason.",
            ["reason"],
        )
        self.status_notices = CounterTable(
            "docbus_status_notices",
            "Status notices routed back to the agency they are addressed to.",
            ["status_code"],
        )
        self.deadlines_unknown = CounterTable(
            "docbus_deadlines_unknown",
            "Deliveries sent on a day past the working calendar's holiday data: no deadline set.",
            [],
        )
        self.doorbell_rings = CounterTable(
            "docbus_doorbell_rings",
            "Express doorbell rings read, by what came of them: fetched (the lane fetches the "
            "partition named), read (already read), elsewhere (another router's partition), "
            "refused (not a ring).",
            ["outcome"],
        )
        self.batches_committed = CounterTable(
            "docbus_batches_committed", "Outbox batches whose offsets were committed.", []
        )
        self.routing_latency = HistogramTable(
            "docbus_routing_latency_seconds",
            "From the router fetching a record to the broker acknowledging all it produced.",
            [],
        )
        self.delivery_latency = HistogramTable(
            "docbus_delivery_latency_seconds",
            "From a document's send time to its deliveries being acknowledged in the inboxes.",
            ["priority"],
        )
        register_tables(
            self.registry,
            [
                self.documents_routed,
                self.deliveries,
                self.deadlines_unknown,
                self.redirects,
                self.dead_letters,
                self.status_notices,
                self.batches_committed,
                self.doorbell_rings,
                self.routing_latency,
                self.delivery_latency,
            ],
        )
        self.consumer_lag = Gauge(
            "docbus_consumer_lag",
            "Records in an outbox partition the router has not consumed yet.",
            ["topic", "partition"],
            registry=r,
        )
        self.in_flight = Gauge(
            "docbus_in_flight_records",
            "Outbox records fetched whose outputs are not yet acknowledged and committed.",
            registry=r,
        )
        self.overdue = Gauge(
            "docbus_overdue_deliveries",
            "Deliveries past their acceptance deadline and still unanswered, by recipient.",
            ["recipient"],
            registry=r,
        )
        self._directory_info = Info(
            "docbus_directory", "The agency directory the router routes by.", registry=r
        )
        self._directory_agencies = Gauge(
            "docbus_directory_agencies", "Agencies open today in the directory.", registry=r
        )
        self._lag_series: set[tuple[str, str]] = set()
        self._overdue_series: set[str] = set()

    def record(self, routed: Routed) -> None:
        """Count one routed record."""
        if routed.kind == "document":
            priority = str(routed.priority)
            self.documents_routed.values[
                (routed.sender or "", priority, str(routed.document_type))
            ] += 1
            deliveries = self.deliveries.values
            for recipient in routed.inboxes:
                deliveries[(recipient, priority)] += 1
            if routed.redirects:
                self.redirects.values[()] += routed.redirects
        elif routed.kind == "notice":
            notices = self.status_notices.values
            for code in routed.status_codes:
                notices[(code,)] += 1
        else:
            self.dead_letters.values[(routed.reason or "unknown",)] += 1

    def settled(self, batch: Sequence[Routed], *, fetched_at: float) -> None:
        """Observe the latencies of a batch whose outputs were just acknowledged."""
        now = time.time()
        self.routing_latency.observe((), max(0.0, now - fetched_at), count=len(batch))
        observe_delivery = self.delivery_latency.observe
        for routed in batch:
            if routed.kind == "document" and routed.sent_at is not None:
                waited = max(0.0, now - routed.sent_at.timestamp())
                observe_delivery((str(routed.priority),), waited)
        self.in_flight.dec(len(batch))

    def committed(self) -> None:
        """Count a committed batch."""
        self.batches_committed.values[()] += 1

    def use_directory(self, directory: Directory) -> None:
        """Export the directory's version and size."""
        self._directory_info.info({"version": directory.version})
        today = dt.datetime.now(VN_TIME).date()
        self._directory_agencies.set(len(directory.open_at(today)))

    def set_lag(self, lags: Mapping[tuple[str, int], int]) -> None:
        """Replace the lag series with ``lags`` (topic, partition) -> records behind."""
        current = {(topic, str(partition)) for topic, partition in lags}
        for gone in self._lag_series - current:
            self.consumer_lag.remove(*gone)
        for (topic, partition), lag in lags.items():
            self.consumer_lag.labels(topic, str(partition)).set(lag)
        self._lag_series = current

    def set_overdue(self, counts: Mapping[str, int]) -> None:
        """Replace the overdue series with ``counts`` (recipient agency -> deliveries)."""
        for gone in self._overdue_series - set(counts):
            self.overdue.remove(gone)
        for agency, count in counts.items():
            self.overdue.labels(agency).set(count)
        self._overdue_series = set(counts)
