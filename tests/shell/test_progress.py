"""Progress off a terminal: a short line every few seconds with done, total, rate and ETA."""

from __future__ import annotations

import io
import time

import pytest
from rich.console import Console

from shell.cli import _progress
from shell.cli._progress import progress_report


def test_lines_off_a_terminal_and_nothing_when_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_progress, "LINE_EVERY_S", 0.05)
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    with progress_report(console, "deliveries") as report:
        report(0, 1000)  # the work begins: no line yet
        time.sleep(0.06)
        report(400, 1000)
        report(500, 1000)  # within the interval: no line
        time.sleep(0.06)
        report(1000, 1000)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("deliveries 400/1,000 (40%), ") and lines[0].endswith("s left")
    assert lines[1].startswith("deliveries 1,000/1,000 (100%)")
    quiet = io.StringIO()
    with progress_report(Console(file=quiet), "documents", quiet=True) as report:
        report(1, 2)
    assert quiet.getvalue() == ""
