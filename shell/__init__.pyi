# What the shell's door offers; shell/__init__.py loads each on first use (lazy_loader).
from ._bench import bench_router as bench_router
from ._broker import EmbeddedBroker as EmbeddedBroker
from ._broker import free_port as free_port
from ._demo import DemoSummary as DemoSummary
from ._demo import ProgressCallback as ProgressCallback
from ._demo import run_demo as run_demo
from ._own_run import delete_prefixed_topics as delete_prefixed_topics
from ._own_run import own_run as own_run
from ._replay import SPAN_DOCUMENTS as SPAN_DOCUMENTS
from ._replay import ReplayProgress as ReplayProgress
from ._replay import ReplaySummary as ReplaySummary
from ._replay import day_spans as day_spans
from ._replay import run_replay as run_replay
from ._replay import spans_of_documents as spans_of_documents
from ._runtime import bus_settings as bus_settings

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
