"""shell._replay_timeline: the replay's latency figures, express documents by delivery and
by document."""

from __future__ import annotations

import time

from shell._express_watch import ExpressArrival, _document_id
from shell._replay_timeline import BROADCAST_DELIVERIES, Timeline


def _arrival(latency_ms: float, document_id: str) -> ExpressArrival:
    return ExpressArrival(time.time(), latency_ms, latency_ms / 2, document_id)


def test_one_late_broadcast_fills_the_tail_by_delivery_but_not_by_document() -> None:
    """99 single-recipient documents at 50 ms and one broadcast whose deliveries all took
    400 ms: the broadcast sets the deliveries' p99 and makes up all of its tail, while the
    documents' p50 stays at 50 ms and only their slowest percent is the broadcast."""
    timeline = Timeline()
    singles = [_arrival(50.0, f"doc-{i}") for i in range(99)]
    broadcast = [_arrival(400.0, "broadcast") for _ in range(BROADCAST_DELIVERIES + 5)]
    timeline.express_arrived([*singles, *broadcast])
    figures = timeline.express_latency_ms()
    assert figures["count"] == 99 + BROADCAST_DELIVERIES + 5
    assert figures["p50"] == 50.0 and figures["p99"] == 400.0
    assert figures["until_routed"]["p99"] == 200.0
    assert figures["p99_tail_broadcast_share"] == 1.0
    by_document = figures["by_document"]
    assert by_document["count"] == 100
    assert by_document["p50"] == by_document["p95"] == 50.0 and by_document["p99"] == 400.0


def test_a_document_is_counted_at_its_slowest_recipient_and_small_fan_outs_are_not_broadcasts() -> (
    None
):
    """Two recipients of one document at 40 and 90 ms count once, at 90; a slow document
    with fewer than the broadcast threshold of deliveries is a tail of share 0."""
    timeline = Timeline()
    timeline.express_arrived(
        [_arrival(40.0, "a"), _arrival(90.0, "a"), *[_arrival(300.0, "b")] * 2]
    )
    figures = timeline.express_latency_ms()
    assert figures["by_document"]["count"] == 2
    assert figures["by_document"]["p50"] == 300.0 and figures["by_document"]["p99"] == 300.0
    assert figures["p99_tail_broadcast_share"] == 0.0


def test_no_express_deliveries_give_no_figures() -> None:
    """A run without express documents reports a count of 0 and no percentiles."""
    figures = Timeline().express_latency_ms()
    assert figures["count"] == 0 and figures["p99"] is None
    assert figures["by_document"] == {
        "count": 0,
        "p50": None,
        "p95": None,
        "p99": None,
        "p99.9": None,
    }
    assert figures["p99_tail_broadcast_share"] is None


def test_a_delivery_key_names_its_document() -> None:
    """The router keys a delivery ``recipient|document id``; a missing key names none."""
    assert _document_id(b"000.00.01.H01|doc-7") == "doc-7"
    assert _document_id(None) == ""
