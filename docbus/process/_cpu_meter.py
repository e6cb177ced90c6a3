"""The CPU a run costs: this process, the children it started and reaped, and processes
it names (an embedded broker still running when the run ends)."""

from __future__ import annotations

import resource
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from docbus.process._procfs import cpu_seconds

__all__ = ["CpuMeter", "lifetime_cpu_seconds"]


def _used(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def lifetime_cpu_seconds() -> float:
    """CPU seconds this process and the children it has waited for used since it started."""
    return _used(resource.RUSAGE_SELF) + _used(resource.RUSAGE_CHILDREN)


@dataclass(frozen=True, slots=True)
class CpuMeter:
    """Started at the beginning of a run; :meth:`spent` at its end, once every child it
    started has been waited for (their CPU, and their own reaped children's, is counted
    only then)."""

    own: float
    children: float
    #: name -> (pid, CPU seconds at the start) of processes read from /proc
    named: Mapping[str, tuple[int, float]]

    @classmethod
    def start(cls, named: Mapping[str, int | None] = MappingProxyType({})) -> CpuMeter:
        """Readings now; ``named`` are processes not reaped by the end, by name (a pid of
        None: a process that is not ours to read, reported as None)."""
        return cls(
            _used(resource.RUSAGE_SELF),
            _used(resource.RUSAGE_CHILDREN),
            {name: (pid, cpu_seconds(pid)) for name, pid in named.items() if pid is not None},
        )

    def spent(self, names: tuple[str, ...] = ()) -> dict[str, float | None]:
        """CPU seconds since :meth:`start`: ``this_process``, ``children``, each named
        process (those of ``names`` not started with a pid: None) and the ``total``."""
        spent: dict[str, float | None] = {
            "this_process": _used(resource.RUSAGE_SELF) - self.own,
            "children": _used(resource.RUSAGE_CHILDREN) - self.children,
        }
        spent |= {name: None for name in names}
        spent |= {name: cpu_seconds(pid) - at for name, (pid, at) in self.named.items()}
        spent["total"] = sum(v for v in spent.values() if v is not None)
        return {name: None if v is None else round(v, 2) for name, v in spent.items()}
