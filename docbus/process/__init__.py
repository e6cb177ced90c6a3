"""Process housekeeping for long-running services: heap tuning, /proc readings, a child
that dies with its parent."""

from docbus.process._cpu_meter import CpuMeter, lifetime_cpu_seconds
from docbus.process._heap import tune_service_heap
from docbus.process._parent import die_with_parent
from docbus.process._procfs import cpu_seconds, show_process_name, status_bytes

__all__ = [
    "CpuMeter",
    "cpu_seconds",
    "die_with_parent",
    "lifetime_cpu_seconds",
    "show_process_name",
    "status_bytes",
    "tune_service_heap",
]
