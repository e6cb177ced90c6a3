"""structlog configuration, kept in one place; only the CLI calls it, library code never does.

Services write JSON lines (one object per event, with ``event``, ``level``, ``timestamp`` and
whatever the event bound: ``document_id``, ``sender``, ``recipient``...); a terminal gets
readable console output. Records from the standard ``logging`` module (aiokafka's among
them) go through the same renderer, so a log shipper sees one format. Other libraries log
at WARNING and above (INFO and above when docbus logs at DEBUG; only CRITICAL with
``quiet_libraries``, for a command that reports its own failures in words). Below DEBUG no
line is longer than :data:`MAX_LINE_CHARS` (the longest values are cut, saying how much),
and an event repeated for record after record (a dead letter, a refused record) is
summarised: the first few of each kind and reason in a window, then one line saying how
many more there were.
"""

from __future__ import annotations

import json as json_module
import logging
import sys
import time
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

__all__ = ["MAX_LINE_CHARS", "RepeatSummary", "configure_logging", "reset_logging"]

_HANDLER_NAME = "docbus"

#: The longest log line below DEBUG (an aiokafka line listing every partition ran to 20 KB).
MAX_LINE_CHARS = 1024
_SHORTEST_CUT = 48


def configure_logging(
    level: str = "INFO",
    *,
    json: bool | None = None,
    stream: TextIO | None = None,
    quiet_libraries: bool = False,
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
    debug = numeric_level <= logging.DEBUG
    bounded: list[structlog.types.Processor] = [] if debug else [RepeatSummary(), bound_line_length]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, *bounded, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    if debug:
        libraries = logging.INFO  # aiokafka's DEBUG is a flood of protocol detail
    else:
        libraries = logging.CRITICAL if quiet_libraries else max(numeric_level, logging.WARNING)
    _route_stdlib_logging(libraries, stream, shared, [*bounded, renderer])


class RepeatSummary:
    """A processor passing the first ``burst`` events of one (event, reason) in each window
    of ``window_s``; the first one after a window carries how many were dropped in it."""

    def __init__(self, *, burst: int = 5, window_s: float = 10.0) -> None:
        self._burst = burst
        self._window_s = window_s
        #: (event, reason) -> [window start, passed in it, dropped in it]
        self._seen: dict[tuple[str, str], list[float]] = {}

    def __call__(
        self, _logger: Any, _name: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        key = (str(event.get("event")), str(event.get("reason", "")))
        now = time.monotonic()
        seen = self._seen.setdefault(key, [now, 0, 0])
        if now - seen[0] >= self._window_s:
            if seen[2]:
                event["repeated"] = f"{seen[2]:.0f} more like this in {now - seen[0]:.0f} s"
            seen[:] = [now, 0, 0]
        if seen[1] >= self._burst:
            seen[2] += 1
            raise structlog.DropEvent
        seen[1] += 1
        return event


def bound_line_length(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Cut the longest string values until the event renders within MAX_LINE_CHARS.

    A traceback keeps its end (where it failed); other values keep their start.
    """
    while len(json_module.dumps(event, ensure_ascii=False, default=str)) > MAX_LINE_CHARS:
        key, value = max(
            ((k, v) for k, v in event.items() if isinstance(v, str)),
            key=lambda kv: len(kv[1]),
            default=(None, ""),
        )
        if key is None or len(value) <= _SHORTEST_CUT:
            break
        keep = max(len(value) // 2, _SHORTEST_CUT) - 32
        cut = len(value) - keep
        if key == "exception":
            event[key] = f"[{cut} characters cut] …{value[-keep:]}"
        else:
            event[key] = f"{value[:keep]}… [{cut} characters cut]"
    return event


def _route_stdlib_logging(
    level: int,
    stream: TextIO,
    shared: list[structlog.types.Processor],
    rendering: list[structlog.types.Processor],
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
                *rendering,
            ],
        )
    )
    root = logging.getLogger()
    _remove_handler(root)
    root.addHandler(handler)
    root.setLevel(level)


def _remove_handler(root: logging.Logger) -> None:
    for existing in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(existing)


def reset_logging() -> None:
    """Back to structlog's and logging's defaults (for tests)."""
    structlog.reset_defaults()
    root = logging.getLogger()
    _remove_handler(root)
    root.setLevel(logging.WARNING)
