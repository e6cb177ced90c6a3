"""The shell, the top floor: the CLI, the demo, the replay, the router benchmark, the embedded
broker, and the orchestration of simulated agencies. Nothing below imports it."""

from shell._bench import bench_router
from shell._broker import EmbeddedBroker, free_port
from shell._demo import (
    DemoSummary,
    ProgressCallback,
    run_demo,
)
from shell._own_run import delete_prefixed_topics, own_run
from shell._replay import (
    SPAN_DOCUMENTS,
    ReplayProgress,
    ReplaySummary,
    day_spans,
    run_replay,
    spans_of_documents,
)
from shell._runtime import bus_settings

__all__ = [
    "SPAN_DOCUMENTS",
    "DemoSummary",
    "EmbeddedBroker",
    "ProgressCallback",
    "ReplayProgress",
    "ReplaySummary",
    "bench_router",
    "bus_settings",
    "day_spans",
    "delete_prefixed_topics",
    "free_port",
    "own_run",
    "run_demo",
    "run_replay",
    "spans_of_documents",
]
