"""What every command shares: the connection options, settings, errors in words, JSON output."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import json
import signal
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any, TypeVar

import click

from consumers import ReceivedDocument, Receiver, Reply
from docbus import Settings, configure_logging
from schemas import StatusCode

__all__ = [
    "answer_all",
    "bus_options",
    "emit_json",
    "metrics_options",
    "received_batches",
    "receiving_options",
    "run_async",
    "settings_from",
    "stop_on_signals",
    "to_jsonable",
]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def bus_options(command: F) -> F:
    """Add --bootstrap-servers, --topic-prefix, --partitions and --log-level to ``command``."""
    options = [
        click.option(
            "--bootstrap-servers",
            help="Kafka bootstrap servers (env DOCBUS_BOOTSTRAP_SERVERS); "
            "none: an embedded broker for this run.",
        ),
        click.option(
            "--topic-prefix", help="Topic prefix (env DOCBUS_TOPIC_PREFIX, default docbus)."
        ),
        click.option(
            "--partitions", type=int, help="Partitions of new topics (env DOCBUS_PARTITIONS)."
        ),
        click.option("--log-level", help="Log level (env DOCBUS_LOG_LEVEL, default INFO)."),
    ]
    return _with_options(command, options)


def metrics_options(command: F) -> F:
    """Add --metrics-port and --metrics-host to a long-running ``command``."""
    options = [
        click.option(
            "--metrics-port",
            type=int,
            help="Serve Prometheus /metrics, /healthz and /readyz on this port "
            "(env DOCBUS_METRICS_PORT; 0: a free port).",
        ),
        click.option(
            "--metrics-host",
            help="Address to serve metrics on (env DOCBUS_METRICS_HOST, default 127.0.0.1).",
        ),
    ]
    return _with_options(command, options)


def receiving_options(command: F) -> F:
    """Add --max, --timeout and --status to a command that receives an agency's documents."""
    codes = [c.value for c in StatusCode if c is not StatusCode.REDIRECTED]
    options = [
        click.option("--max", "max_documents", type=int, help="Stop after this many documents."),
        click.option(
            "--timeout",
            "timeout_s",
            type=float,
            default=10.0,
            show_default=True,
            help="Stop when no document arrives for this many seconds.",
        ),
        click.option(
            "--status",
            type=click.Choice(codes),
            help="Status to answer each document with (01 is automatic).",
        ),
    ]
    return _with_options(command, options)


#: The most documents a receiving command takes from the receiver at once.
_BATCH = 500


async def received_batches(
    receiver: Receiver, *, max_documents: int | None, timeout_s: float
) -> AsyncIterator[list[ReceivedDocument]]:
    """The receiver's documents as they arrive, many at once, until ``max_documents`` or
    ``timeout_s`` without one. Each stays unhandled until answered (:func:`answer_all`):
    a command that stops midway gets the rest again next time."""
    count = 0
    while max_documents is None or count < max_documents:
        limit = _BATCH if max_documents is None else min(_BATCH, max_documents - count)
        taking = receiver.batches(limit, answer_later=True)
        try:
            batch = await asyncio.wait_for(anext(taking), timeout_s)
        except TimeoutError:
            return
        finally:
            await taking.aclose()
        yield batch
        count += len(batch)


async def answer_all(
    receiver: Receiver, batch: Sequence[ReceivedDocument], status: str | None
) -> None:
    """Send ``status`` for each document of ``batch``, signed and sent together, or just
    mark them handled; durable before this returns."""
    if not batch:
        return
    if status is not None:
        await receiver.notify_many([Reply(received, status) for received in batch])
    else:
        await asyncio.gather(*(received.ack() for received in batch))


def _with_options(command: F, options: Sequence[Callable[[Any], Any]]) -> F:
    """``command`` with ``options`` applied, shown in the order given."""
    return functools.reduce(lambda cmd, opt: opt(cmd), reversed(options), command)


def settings_from(**flags: Any) -> Settings:
    """Settings from the environment with the command's flags on top; logging set up.

    Libraries log only what is critical: a command ends a failure with one line of its
    own, and aiokafka's would say it twice (a service that has started may turn them on).
    """
    settings = Settings.from_env(**{k: v for k, v in flags.items() if v is not None})
    configure_logging(settings.log_level, quiet_libraries=True)
    return settings


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` in a new event loop (the ``docbus`` group says what failed)."""
    return asyncio.run(main)


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, for services that stop cleanly by themselves."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def to_jsonable(value: Any) -> Any:
    """Dataclasses, dates and bytes as JSON values (bytes as their length)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return {"inline_bytes": len(value)}
    return value


def emit_json(value: Any) -> None:
    """Print ``value`` as one JSON line on stdout."""
    click.echo(json.dumps(to_jsonable(value), ensure_ascii=False))
