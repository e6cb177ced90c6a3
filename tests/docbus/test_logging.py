"""Tests for docbus._logging: JSON lines for services, console for terminals, one format."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import time

import pytest
import structlog

from docbus import ConfigurationError, Settings, configure_logging
from docbus._logging import MAX_LINE_CHARS, RepeatSummary


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_json_lines_carry_bound_fields_and_stdlib_records() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    log = structlog.get_logger("docbus.test").bind(document_id="000.00.00.G22,2026/11/22,1/X")
    log.info("delivered", sender="000.00.00.G22", recipient="000.00.00.H29")
    log.debug("too_fine")
    logging.getLogger("aiokafka").warning("Heartbeat failed for group %s", "g")
    logging.getLogger("aiokafka").debug("not shown")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["delivered", "Heartbeat failed for group g"]
    assert lines[0]["document_id"] == "000.00.00.G22,2026/11/22,1/X"
    assert (lines[0]["sender"], lines[0]["recipient"]) == ("000.00.00.G22", "000.00.00.H29")
    assert lines[1]["level"] == "warning" and lines[1]["logger"] == "aiokafka"
    assert all("timestamp" in line for line in lines)


def test_a_terminal_gets_readable_lines_and_debug_when_asked() -> None:
    stream = _Terminal()
    configure_logging("debug", stream=stream)
    structlog.get_logger().debug("routed", document_id="D1")
    text = stream.getvalue()
    assert "routed" in text and "document_id" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


def test_configuring_twice_keeps_one_handler() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    configure_logging(stream=stream)
    logging.getLogger("x").error("once")
    assert stream.getvalue().count('"once"') == 1


def test_an_unknown_level_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="log_level"):
        Settings(log_level="LOUD")


def test_libraries_say_only_warnings_and_no_line_is_over_a_kilobyte() -> None:
    """aiokafka's INFO (a 20 KB list of partitions) is not shown; a long docbus value is
    cut to keep the line within MAX_LINE_CHARS, saying how much went; DEBUG shows all."""
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    logging.getLogger("aiokafka").info("Updated partition assignment: %s", "p" * 20_000)
    logging.getLogger("aiokafka").warning("Coordinator dead: %s", "c" * 5_000)
    structlog.get_logger().info("refused", reason="r" * 5_000, sender="000.00.00.G22")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and all(len(line) <= MAX_LINE_CHARS for line in lines)
    warning, refused = (json.loads(line) for line in lines)
    assert (
        warning["event"].startswith("Coordinator dead: ccc")
        and "characters cut" in warning["event"]
    )
    assert refused["sender"] == "000.00.00.G22" and "characters cut" in refused["reason"]

    debug = io.StringIO()
    configure_logging("DEBUG", stream=debug)
    logging.getLogger("aiokafka").info("Updated partition assignment: %s", "p" * 20_000)
    assert len(debug.getvalue()) > 20_000


def test_quiet_libraries_leave_failures_to_the_command() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream, quiet_libraries=True)
    logging.getLogger("aiokafka").error("Unable connect to %s", "127.0.0.1:1")
    structlog.get_logger().warning("docbus_still_speaks")
    assert [json.loads(x)["event"] for x in stream.getvalue().splitlines()] == [
        "docbus_still_speaks"
    ]


def test_an_event_repeated_record_after_record_is_summarised() -> None:
    """The first few of one event and reason pass; the next window's first line says how
    many were dropped; another reason is counted apart."""
    summary = RepeatSummary(burst=3, window_s=0.2)
    passed = []
    for n in range(50):
        with contextlib.suppress(structlog.DropEvent):
            passed.append(summary(None, "warning", {"event": "dead_letter", "reason": "a", "n": n}))
    with contextlib.suppress(structlog.DropEvent):
        passed.append(summary(None, "warning", {"event": "dead_letter", "reason": "b"}))
    assert [e.get("n") for e in passed] == [0, 1, 2, None]
    time.sleep(0.25)
    later = summary(None, "warning", {"event": "dead_letter", "reason": "a"})
    assert later["repeated"].startswith("47 more like this")
