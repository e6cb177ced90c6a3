"""Tests for docbus._logging: JSON lines for services, console for terminals, one format."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from docbus import ConfigurationError, Settings, configure_logging


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
