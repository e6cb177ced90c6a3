"""Process housekeeping for long-running services: heap tuning, /proc readings, pipes on a loop."""

from docbus.process._heap import tune_service_heap
from docbus.process._pipes import add_pipe_reader
from docbus.process._procfs import cpu_seconds, show_process_name, status_bytes

__all__ = [
    "add_pipe_reader",
    "cpu_seconds",
    "show_process_name",
    "status_bytes",
    "tune_service_heap",
]
