"""The express doorbell's ring: what a sender writes and a router reads."""

from __future__ import annotations

import pytest

from schemas import Ring


def test_a_ring_reads_back_as_written() -> None:
    """A ring's key is the outbox topic and its value the partition and offset, in ASCII."""
    ring = Ring("docbus.outbox.000.00.00.G22", 0, 41_207)
    assert (ring.key, ring.value) == (b"docbus.outbox.000.00.00.G22", b"0:41207")
    assert Ring.read(ring.key, ring.value) == ring


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        (None, b"0:1", "a topic for key"),
        (b"t", None, "a topic for key"),
        (b"t", b"0:" + b"1" * 40, "short value"),
        (b"t", b"01", "not <partition>:<offset>"),
        (b"t", b"0:-1", "not <partition>:<offset>"),
        (b"t", b"x:1", "not <partition>:<offset>"),
        (b"t", b"\xff:\xfe", "not <partition>:<offset>"),
    ],
)
def test_what_is_not_a_ring_is_refused_with_its_reason(
    key: bytes | None, value: bytes | None, reason: str
) -> None:
    """Anything else on the doorbell topic is a ValueError saying what is wrong."""
    with pytest.raises(ValueError, match=reason):
        Ring.read(key, value)
