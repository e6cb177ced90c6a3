"""Progress a person can follow: a bar on a terminal, a short line every few seconds elsewhere."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["Report", "announce_start", "progress_report", "say"]

#: Tells the report (done, total) as the run goes.
Report = Callable[[int, int], None]

#: How often a line is printed when the output is not a terminal (a file, CI's log).
LINE_EVERY_S = 5.0


def say(console: Console, text: str) -> None:
    """One plain line: no markup colouring, no wrapping (a URL stays whole)."""
    console.print(text, highlight=False, soft_wrap=True)


def announce_start(
    console: Console, command: str, bootstrap_servers: str | None, then: str
) -> None:
    """Say what a run starts before its first progress (start-up takes seconds)."""
    where = bootstrap_servers or "an embedded broker of its own"
    say(
        console,
        f"docbus {command}: starting routers and every agency's sender and receiver "
        f"on {where}, then {then}",
    )


@contextlib.contextmanager
def progress_report(console: Console, what: str, *, quiet: bool = False) -> Iterator[Report]:
    """A :data:`Report` for counting ``what`` (``deliveries``, ``documents``)."""
    if quiet:
        yield lambda _done, _total: None
    elif console.is_terminal:
        with _bar(console, what) as report:
            yield report
    else:
        yield _Lines(console, what)


@contextlib.contextmanager
def _bar(console: Console, what: str) -> Iterator[Report]:
    with Progress(
        TextColumn(f"[bold]{what}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>8,.0f}/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(what, total=None, rate=0.0)
        started = time.monotonic()

        def report(done: int, total: int) -> None:
            rate = done / max(time.monotonic() - started, 1e-9)
            bar.update(task, completed=done, total=total or None, rate=rate)

        yield report


class _Lines:
    """One line every LINE_EVERY_S: done of total, percent, rate and time left (the rate
    counted from the first report, when the work itself began)."""

    def __init__(self, console: Console, what: str) -> None:
        self._console = console
        self._what = what
        self._started: float | None = None
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self._started is None:
            self._started = self._last = now
        if now - self._last < LINE_EVERY_S:
            return
        self._last = now
        rate = done / (now - self._started)
        line = f"{self._what} {done:,}"
        if total:
            left = f", about {(total - done) / rate:,.0f} s left" if rate > 0 else ""
            line += f"/{total:,} ({100 * done / total:.0f}%), {rate:,.0f}/s{left}"
        else:
            line += f", {rate:,.0f}/s"
        say(self._console, line)
