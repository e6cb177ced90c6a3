"""What every docbus part shares for Prometheus: latency buckets, build info, the HTTP endpoint.

Each part owns its own :class:`~prometheus_client.CollectorRegistry` (no process-global
metrics), and :class:`MetricsServer` serves one registry on ``/metrics`` with the liveness
and readiness probes a Kubernetes Deployment needs on ``/healthz`` and ``/readyz``.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import contextlib
import math
import platform
import socket
import urllib.request
from collections.abc import Awaitable, Callable, Collection, Iterator, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    Info,
    PlatformCollector,
    ProcessCollector,
    make_asgi_app,
)
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families

if TYPE_CHECKING:
    import uvicorn

from docbus._exceptions import ConfigurationError
from docbus._lifecycle import Lifecycle, Service

__all__ = [
    "LATENCY_BUCKETS",
    "CounterTable",
    "HistogramTable",
    "MetricsServer",
    "register_build_info",
    "register_process_metrics",
    "register_tables",
    "scraped_total",
]

log = structlog.get_logger("docbus.metrics")

#: Seconds. Fine around the 250 ms express target, coarse up to the next-working-day deadline.
LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0,
)  # fmt: skip

#: An ASGI application (the callable uvicorn serves).
ASGIApp = Callable[["Scope", "Receive", "Send"], Awaitable[None]]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def scraped_total(url: str, names: Collection[str], timeout_s: float = 5.0) -> float:
    """The sum of the samples named ``names`` that ``url`` serves (a blocking HTTP read:
    for tools and benchmarks watching a router from outside)."""
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        text = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name in names
    )


def register_build_info(registry: CollectorRegistry, component: str) -> None:
    """Add ``docbus_build_info{version, python, component}`` to ``registry``."""
    from docbus._version import __version__

    Info("docbus_build", "The docbus build this process runs.", registry=registry).info(
        {"version": __version__, "python": platform.python_version(), "component": component}
    )


def register_process_metrics(registry: CollectorRegistry) -> None:
    """Add the process's own series to a service's ``registry``, as prometheus-client's
    default registry has them: ``process_cpu_seconds_total``, ``process_resident_memory_bytes``
    and the rest, ``python_gc_collections_total`` by generation, ``python_info``. Each is
    read when scraped, never on the hot path."""
    ProcessCollector(registry=registry)
    GCCollector(registry=registry)
    PlatformCollector(registry=registry)


class CounterTable:
    """A labelled counter kept as plain integers, for the hot path of one event loop.

    prometheus-client's own counters take a lock on every increment (about 1 µs, 3 µs
    with the label lookup); the router and the agency clients count each record, so they
    keep their counts here, written by one loop, and export them with
    :func:`register_tables`.
    """

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = list(labelnames)
        self.values: collections.Counter[tuple[str, ...]] = collections.Counter()

    def family(self) -> CounterMetricFamily:
        """The samples as Prometheus collects them (``<name>_total``)."""
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, value in list(self.values.items()):  # a copy: safe from another thread
            family.add_metric(list(labels), value)
        return family


class HistogramTable:
    """A labelled histogram kept as plain integers (see :class:`CounterTable`)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = list(labelnames)
        self._bounds = [*sorted(buckets), math.inf]
        self._counts: dict[tuple[str, ...], list[int]] = {}
        self._sums: collections.defaultdict[tuple[str, ...], float] = collections.defaultdict(float)

    def observe(self, labels: tuple[str, ...], value: float, count: int = 1) -> None:
        """Record ``count`` observations of ``value`` (le buckets include their bound)."""
        counts = self._counts.get(labels)
        if counts is None:
            counts = self._counts[labels] = [0] * len(self._bounds)
        counts[bisect.bisect_left(self._bounds, value)] += count
        self._sums[labels] += value * count

    def family(self) -> HistogramMetricFamily:
        """Cumulative buckets, ``_count`` and ``_sum`` as Prometheus collects them."""
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, counts in list(self._counts.items()):  # a copy: safe from another thread
            cumulative, buckets = 0, []
            for bound, count in zip(self._bounds, list(counts), strict=True):
                cumulative += count
                buckets.append(("+Inf" if bound == math.inf else str(float(bound)), cumulative))
            family.add_metric(list(labels), buckets, self._sums[labels])
        return family


class _TablesCollector:
    """Exports tables through a registry (prometheus-client's collector protocol)."""

    def __init__(self, tables: Sequence[CounterTable | HistogramTable]) -> None:
        self._tables = list(tables)

    def collect(self) -> Iterator[Metric]:
        for table in self._tables:
            yield table.family()

    def describe(self) -> list[Metric]:
        """Nothing to check at registration: the names are docbus's own."""
        return []


def register_tables(
    registry: CollectorRegistry, tables: Sequence[CounterTable | HistogramTable]
) -> None:
    """Export ``tables`` from ``registry``, read at each scrape."""
    registry.register(_TablesCollector(tables))


def _embedded_uvicorn(config: uvicorn.Config) -> uvicorn.Server:
    """uvicorn inside a service's own event loop: the service keeps its signal handlers
    (uvicorn would otherwise take SIGTERM while it serves, and the router's drain with it).

    uvicorn is imported here, by a process that serves, and not by every process that
    imports docbus (0.03-0.05 s of CPU each, measured from a fresh interpreter)."""
    import uvicorn

    class EmbeddedUvicorn(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return EmbeddedUvicorn(config)


def _probes_app(
    registry: CollectorRegistry, live: Callable[[], bool], ready: Callable[[], bool]
) -> ASGIApp:
    """``/metrics`` (prometheus_client's own ASGI app), ``/healthz`` and ``/readyz``."""
    metrics = make_asgi_app(registry)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if method not in {"GET", "HEAD"}:
            await _plain(send, 405, b"only GET\n", method)
        elif path == "/metrics":
            await metrics(scope, receive, send)
        elif path in {"/healthz", "/readyz"}:
            ok = live() if path == "/healthz" else ready()
            await _plain(send, 200 if ok else 503, b"ok\n" if ok else b"not ok\n", method)
        else:
            await _plain(send, 404, b"try /metrics, /healthz or /readyz\n", method)

    return app


async def _plain(send: Send, status: int, body: bytes, method: str) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


class MetricsServer(Service):
    """``/metrics``, ``/healthz`` and ``/readyz`` over HTTP: prometheus_client's ASGI app
    and two probes, under uvicorn in the service's own event loop.

    Served by the service's loop, so a loop stuck for longer than the probe's timeout
    fails the liveness probe, which is what it is for. ``port=0`` picks a free port (see
    :attr:`port`).
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        port: int,
        host: str = "127.0.0.1",
        live: Callable[[], bool] = lambda: True,
        ready: Callable[[], bool] = lambda: True,
    ) -> None:
        self._host = host
        self._requested_port = port
        self._app = _probes_app(registry, live, ready)
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._lifecycle = Lifecycle("MetricsServer")

    async def start(self) -> None:
        """Listen on the host and port (refused at once, with the reason, if taken)."""
        self._lifecycle.opening()
        try:
            self._socket = socket.create_server((self._host, self._requested_port))
        except OSError as exc:
            self._lifecycle.closing()
            raise ConfigurationError(
                f"cannot serve metrics on {self._host}:{self._requested_port}: "
                f"{exc.strerror or exc}"
            ) from exc
        import uvicorn  # see _embedded_uvicorn

        config = uvicorn.Config(
            self._app,
            lifespan="off",
            log_config=None,  # library code never configures logging
            log_level="warning",
            access_log=False,
            timeout_keep_alive=5,
            limit_concurrency=64,
        )
        self._server = _embedded_uvicorn(config)
        self._task = asyncio.create_task(
            self._server.serve(sockets=[self._socket]), name="docbus-metrics-server"
        )
        self._task.add_done_callback(_log_server_failure)
        log.info("metrics_serving", url=self.url)

    async def stop(self) -> None:
        """Stop serving and close open connections; safe to call twice."""
        if not self._lifecycle.closing() or self._server is None:
            return
        self._server.should_exit = True
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._socket is not None:
            self._socket.close()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        self._lifecycle.require_open()
        assert self._socket is not None
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        """Where the metrics can be scraped."""
        host = "127.0.0.1" if self._host in {"0.0.0.0", ""} else self._host
        return f"http://{host}:{self.port}/metrics"


def _log_server_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("metrics_server_failed", error=repr(task.exception()))
