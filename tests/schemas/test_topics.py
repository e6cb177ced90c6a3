"""Tests for schemas._topics: the topic layout."""

from __future__ import annotations

import re

from schemas import TopicLayout, header_value, is_express


def test_names_follow_the_prefix() -> None:
    """Outboxes, inboxes and the dead-letter topic sit under the prefix."""
    layout = TopicLayout("docbus")
    assert layout.outbox("000.00.00.G22") == "docbus.outbox.000.00.00.G22"
    assert layout.inbox("000.00.00.H29") == "docbus.inbox.000.00.00.H29"
    assert layout.deadletter == "docbus.deadletter"


def test_outbox_pattern_and_owner() -> None:
    """The outbox pattern matches only outboxes, and the owner is read back from the name."""
    layout = TopicLayout("t1")
    pattern = re.compile(layout.outbox_pattern)
    assert pattern.match("t1.outbox.000.00.00.G22")
    assert not pattern.match("t1.inbox.000.00.00.G22")
    assert not pattern.match("t12.outbox.000.00.00.G22")
    assert layout.outbox_owner("t1.outbox.000.00.00.G22") == "000.00.00.G22"
    assert layout.outbox_owner("t1.inbox.000.00.00.G22") is None


def test_agency_topics() -> None:
    """Each agency gets an outbox and an inbox, plus the dead-letter, directory and two
    doorbell topics."""
    names = TopicLayout("p").agency_topics(["000.00.00.G22", "000.00.00.H29"])
    bus = {"p.deadletter", "p.directory", "p.doorbell", "p.inbox-doorbell"}
    assert len(names) == 8 and bus <= set(names)


def test_header_value_and_express_priorities() -> None:
    """A header is read by name (the first of that name), and only 3 and 4 are express."""
    headers = [("a", b"1"), ("docbus-recipient", b"000.00.05.H29"), ("a", b"2")]
    assert header_value(headers, "docbus-recipient") == "000.00.05.H29"
    assert header_value(headers, "a") == "1"
    assert header_value(headers, "missing") is None
    assert [p for p in range(5) if is_express(p)] == [3, 4]
