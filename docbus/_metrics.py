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
import urllib.request
from collections.abc import Callable, Collection, Sequence

import structlog
from prometheus_client import CollectorRegistry, Info
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from docbus._exceptions import ConfigurationError
from docbus._lifecycle import Lifecycle, Service

__all__ = [
    "LATENCY_BUCKETS",
    "CounterTable",
    "HistogramTable",
    "MetricsServer",
    "register_build_info",
    "scraped_total",
]

log = structlog.get_logger("docbus.metrics")

#: Seconds. Fine around the 250 ms express target, coarse up to the next-working-day deadline.
LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0,
)  # fmt: skip

_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}
_MAX_REQUEST_BYTES = 16_384
_REQUEST_TIMEOUT_S = 10.0


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


class CounterTable:
    """A labelled counter kept as plain integers, for the hot path of one event loop.

    prometheus-client's own counters take a lock on every increment (about 1 µs, 3 µs
    with the label lookup); the router counts each record, so it keeps its counts here,
    written and collected by the same loop, and exports them through a collector.
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


class MetricsServer(Service):
    """``/metrics``, ``/healthz`` and ``/readyz`` over HTTP, served from the event loop.

    Served by the loop itself, so a loop stuck for longer than the probe's timeout fails
    the liveness probe, which is what it is for. ``port=0`` picks a free port (see
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
        self._registry = registry
        self._host = host
        self._requested_port = port
        self._live = live
        self._ready = ready
        self._server: asyncio.Server | None = None
        self._lifecycle = Lifecycle("MetricsServer")

    async def start(self) -> None:
        """Listen on the host and port."""
        self._lifecycle.opening()
        try:
            self._server = await asyncio.start_server(
                self._serve, self._host, self._requested_port, limit=_MAX_REQUEST_BYTES
            )
        except OSError as exc:
            self._lifecycle.closing()
            raise ConfigurationError(
                f"cannot serve metrics on {self._host}:{self._requested_port}: "
                f"{exc.strerror or exc}"
            ) from exc
        log.info("metrics_serving", url=self.url)

    async def stop(self) -> None:
        """Stop listening and close open connections; safe to call twice."""
        if not self._lifecycle.closing() or self._server is None:
            return
        self._server.close()
        await self._server.wait_closed()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        self._lifecycle.require_open()
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """Where the metrics can be scraped."""
        host = "127.0.0.1" if self._host in {"0.0.0.0", ""} else self._host
        return f"http://{host}:{self.port}/metrics"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_REQUEST_TIMEOUT_S):
                request = await reader.readuntil(b"\r\n\r\n")
            status, content_type, body = self._answer(request)
            length = len(body)
            if request.startswith(b"HEAD "):
                body = b""
            writer.write(
                f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {length}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ConnectionError,
            TimeoutError,
        ):
            pass  # a client that hung up or sent garbage gets nothing
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _answer(self, request: bytes) -> tuple[int, str, bytes]:
        head, *header_lines = request.decode("latin-1").split("\r\n")
        method, _, rest = head.partition(" ")
        path = rest.partition(" ")[0].partition("?")[0]
        if method not in {"GET", "HEAD"}:
            return 405, "text/plain", b"only GET\n"
        if path == "/metrics":
            accept = next(
                (
                    v
                    for k, _, v in (h.partition(":") for h in header_lines)
                    if k.lower() == "accept"
                ),
                "",
            )
            encoder, content_type = choose_encoder(accept.strip())
            return 200, content_type, encoder(self._registry)
        if path in {"/healthz", "/readyz"}:
            ok = self._live() if path == "/healthz" else self._ready()
            return (200, "text/plain", b"ok\n") if ok else (503, "text/plain", b"not ok\n")
        return 404, "text/plain", b"try /metrics, /healthz or /readyz\n"
