"""The sender's ring: a ring that cannot be sent costs the document nothing but time."""

from __future__ import annotations

import structlog

from docbus import Ringer, Settings, make_producer, start_producer


async def test_a_doorbell_that_cannot_be_rung_is_given_up_with_a_warning(
    settings: Settings,
) -> None:
    """The first ring to a doorbell the broker will not take gives up (after 2 s) and
    warns; the ringer then stops ringing, so later sends wait for nothing."""
    producer = make_producer(settings)
    await start_producer(producer, settings, "the test's producer")
    try:
        ringer = Ringer(producer, "no such topic!", enabled=True)
        with structlog.testing.capture_logs() as logs:
            await ringer.ring("t.outbox.000.00.00.G22", 0, 7)
            await ringer.ring("t.outbox.000.00.00.G22", 0, 8)  # not tried: no second warning
    finally:
        await producer.stop()
    (warning,) = [e for e in logs if e["log_level"] == "warning"]
    assert warning["event"] == "doorbell_unreachable" and warning["topic"] == "no such topic!"
