"""A replay's measurements: when each document went out and arrived, and percentiles of that."""

from __future__ import annotations

import collections
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from schemas import Document
from shell._express_watch import ExpressArrival

__all__ = ["Timeline", "percentiles_ms"]

_PERCENTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99, "p99.9": 0.999}
#: A document with at least this many express deliveries counts as a broadcast (to all
#: provinces or all ministries) in ``Timeline.express_latency_ms``.
BROADCAST_DELIVERIES = 10


@dataclass
class Timeline:
    """When each document went out and each delivery arrived, from the run's start."""

    started: float = field(default_factory=time.monotonic)
    #: Documents sent in each second of the run (as the senders counted them).
    sent_per_second: collections.Counter[int] = field(default_factory=collections.Counter)
    #: (seconds since the start, latency in seconds, priority) of each delivery.
    deliveries: list[tuple[float, float, int]] = field(default_factory=list)
    #: (seconds since the start, outbox-to-inbox seconds, outbox-to-routed seconds, document
    #: id) of each express delivery read in its inbox lane
    #: (:class:`shell._express_watch.ExpressWatch`).
    express: list[tuple[float, float, float, str]] = field(default_factory=list)

    @property
    def started_wall(self) -> float:
        """The run's start in wall-clock seconds (as ``time.time()`` gives them)."""
        return time.time() - time.monotonic() + self.started

    def delivered(self, document: Document) -> None:
        """Note that ``document`` was handed to one of its recipients now (its latency is
        from its ``sent_at``, when its sender dated it on sending)."""
        now = time.monotonic()
        latency = time.time() - document.sent_at.timestamp()
        self.deliveries.append((now - self.started, latency, document.priority))

    def express_arrived(self, arrivals: Iterable[ExpressArrival]) -> None:
        """Note express deliveries the watcher read (their times are wall-clock)."""
        since_start = self.started_wall
        self.express += (
            (
                a.at - since_start,
                a.outbox_to_inbox_ms / 1000,
                a.outbox_to_routed_ms / 1000,
                a.document_id,
            )
            for a in arrivals
        )

    def express_latency_ms(self) -> dict[str, Any]:
        """Percentiles of the express deliveries' outbox-to-inbox latency, and of the part
        of it before the router produced them (``until_routed``).

        A broadcast's deliveries share their wait until routed, so a few late broadcasts
        can fill the slowest percent: ``by_document`` gives each express document's
        latency until its last recipient could read it, and ``p99_tail_broadcast_share``
        what share of the deliveries at or over the p99 belonged to broadcasts (documents
        with ``BROADCAST_DELIVERIES`` or more express deliveries).
        """
        ordered = sorted(total for _, total, _, _ in self.express)
        per_document: dict[str, list[float]] = collections.defaultdict(list)
        for _, total, _, document_id in self.express:
            per_document[document_id].append(total)
        p99 = _quantile(ordered, _PERCENTILES["p99"]) if ordered else 0.0
        tail = [doc for _, total, _, doc in self.express if total >= p99]
        broadcasts = sum(len(per_document[doc]) >= BROADCAST_DELIVERIES for doc in tail)
        return {
            "count": len(self.express),
            **percentiles_ms(ordered),
            "until_routed": percentiles_ms([routed for _, _, routed, _ in self.express]),
            "by_document": {
                "count": len(per_document),
                **percentiles_ms([max(latencies) for latencies in per_document.values()]),
            },
            "p99_tail_broadcast_share": round(broadcasts / len(tail), 3) if tail else None,
        }

    def latency_ms(self) -> dict[str, Any]:
        """Percentiles of every delivery's latency, overall and by priority."""
        by_priority: dict[int, list[float]] = collections.defaultdict(list)
        for _, latency, priority in self.deliveries:
            by_priority[priority].append(latency)
        return {
            **percentiles_ms([latency for _, latency, _ in self.deliveries]),
            "by_priority": {str(p): percentiles_ms(v) for p, v in sorted(by_priority.items())},
        }

    def per_second(self) -> list[dict[str, Any]]:
        """Documents sent, deliveries and their latency percentiles in each second of the
        run, and the p99 of the express deliveries read in their inbox lanes."""
        sent = self.sent_per_second
        latencies: dict[int, list[float]] = collections.defaultdict(list)
        for at, latency, _ in self.deliveries:
            latencies[int(at)].append(latency)
        express: dict[int, list[float]] = collections.defaultdict(list)
        for at, latency, _, _ in self.express:
            express[int(at)].append(latency)
        last = max([*sent, *latencies, *express, 0])
        return [
            {
                "second": second,
                "documents_sent": sent.get(second, 0),
                "deliveries": len(latencies.get(second, [])),
                **{
                    f"latency_ms_{k}": v
                    for k, v in percentiles_ms(latencies.get(second, [])).items()
                    if k in ("p50", "p99")
                },
                "express_inbox_latency_ms_p99": percentiles_ms(express.get(second, []))["p99"],
            }
            for second in range(last + 1)
        ]


def percentiles_ms(seconds: list[float]) -> dict[str, float | None]:
    """p50, p95, p99 and p99.9 of ``seconds``, in milliseconds (None each when empty)."""
    ordered = sorted(seconds)
    if not ordered:
        return dict.fromkeys(_PERCENTILES)
    return {name: round(1000 * _quantile(ordered, q), 1) for name, q in _PERCENTILES.items()}


def _quantile(ordered: list[float], q: float) -> float:
    """The value at quantile ``q`` of a sorted, non-empty list (nearest rank, rounded down)."""
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]
