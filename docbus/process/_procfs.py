"""A process as Linux shows it in ``/proc``: its memory, its CPU time, and the name ``top`` shows."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["cpu_seconds", "show_process_name", "status_bytes"]


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


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds process ``pid`` has used so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def show_process_name(name: str) -> None:
    """Name this process for ``top`` and ``ps -o comm`` (Linux keeps 15 bytes; elsewhere
    nothing happens), so a helper process can be told from its siblings."""
    with contextlib.suppress(OSError):
        Path("/proc/self/comm").write_text(name.removeprefix("docbus-")[:15], encoding="utf-8")
