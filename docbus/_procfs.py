"""A process's memory as Linux reports it in ``/proc/<pid>/status``."""

from __future__ import annotations

from pathlib import Path

__all__ = ["status_bytes"]


def status_bytes(pid: int | None, field_name: str) -> int:
    """``field_name`` (``VmRSS``, ``VmHWM``) of process ``pid`` in bytes; 0 where unknown."""
    if pid is None:
        return 0
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) * 1024
    return 0
