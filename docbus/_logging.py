"""structlog configuration, kept in one place; only the CLI calls it, library code never does.

Services write JSON lines (one object per event, with ``event``, ``level``, ``timestamp`` and
whatever the event bound: ``document_id``, ``sender``, ``recipient``...); a terminal gets
readable console output. Records from the standard ``logging`` module (aiokafka's among
them) go through the same renderer, so a log shipper sees one format; they are kept at INFO
or above even when docbus logs at DEBUG.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

__all__ = ["configure_logging", "reset_logging"]

_HANDLER_NAME = "docbus"


def configure_logging(
    level: str = "INFO", *, json: bool | None = None, stream: TextIO | None = None
) -> None:
    """Log at ``level``: JSON lines, or readable console output when ``stream`` is a terminal."""
    stream = stream or sys.stderr
    as_json = (not stream.isatty()) if json is None else json
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        raise ValueError(f"unknown log level {level!r}")
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    _route_stdlib_logging(numeric_level, stream, shared, renderer)


def _route_stdlib_logging(
    level: int,
    stream: TextIO,
    shared: list[structlog.types.Processor],
    renderer: structlog.types.Processor,
) -> None:
    """Render the standard library's records (aiokafka, asyncio) like structlog's own."""
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    _remove_handler(root)
    root.addHandler(handler)
    root.setLevel(max(level, logging.INFO))  # aiokafka's DEBUG is a flood of protocol detail


def _remove_handler(root: logging.Logger) -> None:
    for existing in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(existing)


def reset_logging() -> None:
    """Back to structlog's and logging's defaults (for tests)."""
    structlog.reset_defaults()
    root = logging.getLogger()
    _remove_handler(root)
    root.setLevel(logging.WARNING)
